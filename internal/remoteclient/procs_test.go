package remoteclient

import (
	"testing"

	"virtxend/tools/genprocs/procfile"
)

func TestProcedureNumbers(t *testing.T) {
	bad, err := procfile.CheckNumbers(procNames)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Error(b)
	}
}
