package cmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vigil-k8s/vigil/config"
)

// newConfigCommand returns `vigil config` with its subcommands `init` (write
// the commented default configuration) and `validate` (load a file and
// report every error with file, line and field), both on g's --config; out
// receives the report.
func newConfigCommand(g *globalFlags, out io.Writer) *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Write or check vigil's configuration file",
		Long: `vigil reads its settings from --config, else $VIGIL_CONFIG, else
$XDG_CONFIG_HOME/vigil/config.yaml (~/.config/vigil/config.yaml).`,
		Args: cobra.NoArgs,
	}

	var force bool
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Write the commented default configuration",
		Example: `  vigil config init
  vigil config init --config ./vigil.yaml --force`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			p := g.configPath()
			if p.File == "" {
				return errors.New("config init: no place for the file: set HOME, XDG_CONFIG_HOME or --config")
			}
			return writeTemplate(p.File, force, out)
		},
	}
	initCmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")

	validateCmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration file and print every error with its line",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			p := g.configPath()
			if p.File == "" {
				return errors.New("config validate: no file to check: set HOME, XDG_CONFIG_HOME or --config")
			}
			if _, err := os.Stat(p.File); errors.Is(err, fs.ErrNotExist) && !p.Explicit {
				fmt.Fprintf(out, "%s does not exist: vigil uses its defaults (vigil config init writes them)\n", p.File)
				return nil
			}
			if _, err := config.Load(p); err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			fmt.Fprintf(out, "%s: valid\n", p.File)
			return nil
		},
	}
	c.AddCommand(initCmd, validateCmd)
	return c
}

func writeTemplate(file string, force bool, out io.Writer) error {
	if _, err := os.Stat(file); err == nil && !force {
		return fmt.Errorf("config init: %s exists; pass --force to overwrite it", file)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("config init: %w", err)
	}
	if err := os.WriteFile(file, []byte(config.Template), 0o600); err != nil {
		return fmt.Errorf("config init: %w", err)
	}
	fmt.Fprintf(out, "wrote %s\n", file)
	return nil
}
