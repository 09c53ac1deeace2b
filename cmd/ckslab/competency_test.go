package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ckslab/ckslab/engine/curriculum"
)

// list shows each scenario's competency id (table and JSON); --competencies
// lists all 26 with the scenarios of each and names the gaps.
func TestListCompetencies(t *testing.T) {
	r := runCLI(t, "list", "-o", "json")
	var sums []scenarioSummary
	if err := json.Unmarshal([]byte(r.stdout), &sums); err != nil || len(sums) == 0 {
		t.Fatalf("list -o json: %v\n%s", err, r.stdout)
	}
	byComp := map[string][]string{}
	for _, s := range sums {
		if _, ok := curriculum.Lookup(s.Competency); !ok {
			t.Errorf("%s: competency %q is not a curriculum id", s.ID, s.Competency)
		}
		byComp[s.Competency] = append(byComp[s.Competency], s.ID)
	}
	if table := runCLI(t, "list").stdout; !strings.Contains(table, "COMPETENCY") || !strings.Contains(table, "network-policies") {
		t.Errorf("list table has no competency column:\n%s", table)
	}

	r = runCLI(t, "list", "--competencies", "-o", "json")
	var rows []competencyCoverage
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("list --competencies -o json: %v\n%s", err, r.stdout)
	}
	if len(rows) != 26 {
		t.Fatalf("%d competencies listed, want 26", len(rows))
	}
	var gaps []string
	for _, row := range rows {
		if row.Count != len(byComp[row.ID]) || strings.Join(row.Scenarios, ",") != strings.Join(byComp[row.ID], ",") {
			t.Errorf("%s: listed %v, the catalog has %v", row.ID, row.Scenarios, byComp[row.ID])
		}
		if row.Count == 0 {
			gaps = append(gaps, row.ID)
		}
	}
	table := runCLI(t, "list", "--competencies").stdout
	if len(gaps) > 0 && !strings.Contains(table, "no scenario yet: "+strings.Join(gaps, ", ")) {
		t.Errorf("table does not name the gaps %v:\n%s", gaps, table)
	}
	if d := runCLI(t, "list", "--competencies", "--domain", "system-hardening", "-o", "name").stdout; strings.Fields(d)[0] != "host-footprint" || len(strings.Fields(d)) != 4 {
		t.Errorf("--domain system-hardening: %q", d)
	}
}
