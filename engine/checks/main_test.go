package checks_test

import (
	"os"
	"testing"

	"github.com/ckslab/ckslab/engine/runner/labtest"
)

// lab is the package's shared local cluster (set up once by TestMain).
var lab *labtest.Lab

func TestMain(m *testing.M) { os.Exit(labtest.Main(m, "test-checks", &lab)) }
