package runner_test

import (
	"os"
	"testing"

	"github.com/ckslab/ckslab/engine/runner/labtest"
)

var lab *labtest.Lab

func TestMain(m *testing.M) { os.Exit(labtest.Main(m, "test-runner", &lab)) }
