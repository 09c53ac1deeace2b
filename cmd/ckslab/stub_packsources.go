package main

import "github.com/ckslab/ckslab/engine/load"

// Placeholder until packs land; delete this file when they do.
func (a *app) packSources() ([]load.Source, error) { return nil, nil }
