package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/cylestio/perimeter/configs"
)

type validateCommand struct {
	path   string
	strict bool
}

func newValidateCommand(app *kingpin.Application) *validateCommand {
	c := &validateCommand{}
	cmd := app.Command("validate-config", "Check a config file and list every problem with its YAML path (exit 1 if any error).")
	cmd.Arg("file", "YAML config file.").Required().StringVar(&c.path)
	cmd.Flag("strict", "Treat warnings (unknown keys, ignored settings) as errors.").BoolVar(&c.strict)
	return c
}

func (c *validateCommand) run(stdout, stderr io.Writer) int {
	cfg, problems, err := configs.Load(c.path, os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "✗ Configuration is invalid: %v\n", err)
		return 1
	}
	problems = append(problems, cfg.Validate()...)
	failed := configs.HasErrors(problems) || (c.strict && len(problems) > 0)
	if failed {
		fmt.Fprintf(stderr, "✗ Configuration is invalid: %s\n", c.path)
		printProblems(stderr, problems)
		return 1
	}
	fmt.Fprintf(stdout, "✓ Configuration is valid: %s\n", c.path)
	fmt.Fprintf(stdout, "  - Server: %s:%d\n", cfg.Server.Host, cfg.Server.Port)
	fmt.Fprintf(stdout, "  - LLM: %s @ %s\n", cfg.LLM.Type, configs.RedactURL(cfg.LLM.BaseURL))
	fmt.Fprintf(stdout, "  - Interceptors: %d configured\n", len(cfg.Interceptors))
	if len(problems) > 0 {
		fmt.Fprintln(stdout, "Warnings:")
		printProblems(stdout, problems)
	}
	return 0
}

func printProblems(w io.Writer, problems []configs.Problem) {
	for _, p := range problems {
		kind := "error"
		if p.Warning {
			kind = "warning"
		}
		fmt.Fprintf(w, "  - %s: %s\n", kind, p.String())
	}
}

type generateCommand struct {
	path    string
	example string
	force   bool
}

func newGenerateCommand(app *kingpin.Application) *generateCommand {
	c := &generateCommand{}
	cmd := app.Command("generate-config", "Write a commented example config file.")
	cmd.Arg("file", "Where to write it; - for standard output.").Required().StringVar(&c.path)
	cmd.Flag("example", "Which example: "+strings.Join(configs.ExampleNames(), ", ")+" (default: the general one).").StringVar(&c.example)
	cmd.Flag("force", "Overwrite the file if it exists.").BoolVar(&c.force)
	return c
}

func (c *generateCommand) run(stdout, stderr io.Writer) int {
	data, err := configs.Example(c.example)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err) // it lists the examples
		return 1
	}
	// kingpin hands "-" over as "" (a lone "-" is an empty short flag to
	// its parser), so both mean standard output; "" is no file name anyway.
	if c.path == "-" || c.path == "" {
		if _, err := stdout.Write(data); err != nil {
			fmt.Fprintf(stderr, "Error: writing to standard output: %v\n", err)
			return 1
		}
		return 0
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if c.force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(c.path, flags, 0o600)
	if err != nil {
		if os.IsExist(err) {
			fmt.Fprintf(stderr, "Error: %s already exists; pass --force to overwrite it\n", c.path)
		} else {
			fmt.Fprintf(stderr, "Error: %v\n", err)
		}
		return 1
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		fmt.Fprintf(stderr, "Error: writing %s: %v\n", c.path, err)
		return 1
	}
	if err := f.Close(); err != nil {
		fmt.Fprintf(stderr, "Error: writing %s: %v\n", c.path, err)
		return 1
	}
	fmt.Fprintf(stdout, "Example configuration written to: %s\n", c.path)
	return 0
}
