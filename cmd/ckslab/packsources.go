package main

import (
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/engine/pack"
)

// packManager manages the packs under the app's state root.
func (a *app) packManager() *pack.Manager {
	return pack.New(a.stateRoot(), version())
}

// packSources are the installed packs as untrusted catalog sources.
func (a *app) packSources() ([]load.Source, error) {
	return a.packManager().Sources()
}
