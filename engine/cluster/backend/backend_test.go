package backend

import (
	"context"
	"testing"
)

func TestResolve(t *testing.T) {
	none := func(context.Context) string { return "" }
	docker := func(context.Context) string { return "docker" }
	tests := []struct {
		name    string
		backend string
		probe   func(context.Context) string
		want    string
		wantErr bool
	}{
		{"auto without engine", "auto", none, "local", false},
		{"empty means auto", "", none, "local", false},
		{"auto with docker", "auto", docker, "kind", false},
		{"forced local", "local", docker, "local", false},
		{"forced kind with docker", "kind", docker, "kind", false},
		{"forced kind without an engine says so", "kind", none, "", true},
		{"unknown", "vagrant", none, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, why, err := Resolve(context.Background(), tt.backend, Options{StateRoot: t.TempDir(), Probe: tt.probe})
			if tt.wantErr {
				if err == nil {
					t.Fatalf("want error, got %s", b.Name())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Name() != tt.want || why == "" {
				t.Fatalf("got %s (%q), want %s", b.Name(), why, tt.want)
			}
		})
	}
}
