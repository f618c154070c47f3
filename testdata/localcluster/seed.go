package main

import "context"

func seedAll(ctx context.Context, manifests string, clusters []*cluster) error { return nil }
