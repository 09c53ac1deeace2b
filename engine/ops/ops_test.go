package ops

import (
	"reflect"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"label ns team-a a=b --overwrite", []string{"label", "ns", "team-a", "a=b", "--overwrite"}, false},
		{`annotate pod p note="two words"`, []string{"annotate", "pod", "p", "note=two words"}, false},
		{`-p '{"spec":{"x":1}}'`, []string{"-p", `{"spec":{"x":1}}`}, false},
		{`a\ b "c\"d"`, []string{"a b", `c"d`}, false},
		{`get pods; rm -rf /`, []string{"get", "pods;", "rm", "-rf", "/"}, false}, // no shell: ';' is just a character
		{`"unterminated`, nil, true},
		{`trailing\`, nil, true},
		{"", nil, false},
	}
	for _, tt := range tests {
		got, err := SplitArgs(tt.in)
		if (err != nil) != tt.wantErr {
			t.Fatalf("%q: err %v", tt.in, err)
		}
		if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Fatalf("%q: got %q want %q", tt.in, got, tt.want)
		}
	}
}
