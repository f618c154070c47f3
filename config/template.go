package config

// Template is the commented default configuration `vigil config init`
// writes. It parses to Default() (see TestTemplateIsDefault).
const Template = `# vigil configuration. Global settings come first; contexts: overrides them
# per kube context. Flags beat context settings, which beat global ones.

# Namespaces whose services vigil shows (a namespace that does not exist is
# reported, not fatal). Or pick them by label with namespaceSelector.
namespaces: [fintech-prod, fintech-staging, fintech-monitoring, fintech-security]
# namespaceSelector: "team=payments"

# Alert endpoints. Without them the Alerts screen says "no Prometheus configured".
# prometheus: http://prometheus.fintech-monitoring:9090
# alertmanager: http://alertmanager.fintech-monitoring:9093

# How vigil reaches Argo CD: "kubernetes" (Application resources, default) or
# "server" (argocd-server REST API with a token read from tokenFile, else
# $ARGOCD_AUTH_TOKEN): sync and rollback under Argo CD's RBAC, and what a sync
# would change, per resource (d on the GitOps screen, the sync confirmation).
argocd:
  mode: kubernetes
  # server: https://argocd.example.com
  # tokenFile: ~/.config/vigil/argocd-token

# Alert labels that join an alert (and the 5xx error rate vigil queries from
# http_requests_total) to a service, tried in order.
alertLabels:
  service: [service, app, job]
  namespace: [namespace]
  # Only alerts with these labels belong here (a Prometheus shared by clusters);
  # silences vigil creates always carry them too.
  # match: {cluster: prod-eu}

# Refuse every mutation (flag --read-only / --write beat this).
# readOnly: false
# Ask for a reason, written to the audit log, before any mutation.
# requireReason: false
# Container logs (vigil logs, the l key); false where logs carry payload data
# a reviewer must not see. Logs are reads: read-only mode allows them.
# logs: true

# Where the Contexts screen's summary of each context comes from. Without this,
# one LIST pass per context against its API server. With it, PromQL over the
# kube-state-metrics series of every cluster in one Prometheus (or Thanos Query,
# Mimir): a fixed number of queries however many contexts. Series are told
# apart by clusterLabel (default cluster) whose value is the context's name
# unless a context sets fleet.cluster. See docs/fleet.md.
# fleet:
#   prometheus: http://thanos-query.monitoring:9090
#   clusterLabel: cluster

# Registries images may come from (compliance checks).
allowedRegistries: [registry.fintech.internal]

# Contexts whose mutations need the context name typed to confirm: names or
# path.Match patterns ('*' is any run of characters but '/'), as --protected-context.
# /etc/vigil/config.yaml, when present, can only add to what this file protects.
# protectedContexts: ["prod-*"]

# Per-context overrides: any setting above, plus readOnlyEnforced (a
# read-only that --write cannot lift) and protected.
# contexts:
#   prod-eu:
#     readOnly: true
#     readOnlyEnforced: true
#     prometheus: http://prometheus.prod-eu.internal:9090
#   local-1:
#     namespaces: [fintech-prod]
#   prod-eu-admin:
#     fleet: {cluster: prod-eu}  # its series carry cluster="prod-eu", not its context name
`
