package process

import (
	"os"
	"testing"

	"virtxend/test/daemontest"
)

func TestMain(m *testing.M) { os.Exit(daemontest.Main(m)) }
