package main

import (
	"context"
	"fmt"
)

// Placeholder until the UI lands; delete this file when it does.
func runCatalogTUI(ctx context.Context, a *app) error { return errNotBuilt("the terminal UI") }

func errNotBuilt(what string) error { return fmt.Errorf("%s is not available in this build", what) }
