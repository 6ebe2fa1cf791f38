package config

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// An example line in a sample file: "#key = value", no blank after '#'.
var exampleLine = regexp.MustCompile(`^#([a-z_][a-z0-9_]*) = `)

// readSample returns a sample file's text and the keys of its example
// lines, failing on an uncommented line or a repeated example.
func readSample(t *testing.T, name string) (string, []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "conf", name))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i, line := range strings.Split(string(data), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			t.Errorf("%s:%d: not commented out: %q", name, i+1, line)
		}
		if m := exampleLine.FindStringSubmatch(line); m != nil {
			if slices.Contains(keys, m[1]) {
				t.Errorf("%s:%d: second example of %s", name, i+1, m[1])
			}
			keys = append(keys, m[1])
		}
	}
	return string(data), keys
}

// uncomment turns every example line into a setting.
func uncomment(text string) []byte {
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		if exampleLine.MatchString(line) {
			lines[i] = line[1:]
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

func keyNames[T any](keys []key[T]) []string {
	var names []string
	for _, k := range keys {
		names = append(names, k.name)
	}
	return names
}

func checkSampleKeys(t *testing.T, name string, examples, known []string) {
	t.Helper()
	for _, k := range known {
		if !slices.Contains(examples, k) {
			t.Errorf("%s has no example of %s", name, k)
		}
	}
	for _, k := range examples {
		if !slices.Contains(known, k) {
			t.Errorf("%s shows %s, which the loader does not know", name, k)
		}
	}
}

func TestSampleDaemonConf(t *testing.T) {
	text, examples := readSample(t, "virtxend.conf")
	checkSampleKeys(t, "virtxend.conf", examples, append(keyNames(daemonKeys()), obsoleteDaemonKeys...))
	d, err := ParseDaemon("virtxend.conf", []byte(text))
	if err != nil {
		t.Fatalf("as shipped: %v", err)
	}
	if live, restart := DiffDaemon(DefaultDaemon(), d); live != nil || restart != nil {
		t.Errorf("as shipped, the file changes %v %v", live, restart)
	}
	if _, err := ParseDaemon("virtxend.conf", uncomment(text)); err != nil {
		t.Errorf("with every example uncommented: %v", err)
	}
}

func TestSampleLibxlConf(t *testing.T) {
	text, examples := readSample(t, "libxl.conf")
	checkSampleKeys(t, "libxl.conf", examples, keyNames(libxlKeys()))
	if _, err := ParseLibxl("libxl.conf", []byte(text)); err != nil {
		t.Fatalf("as shipped: %v", err)
	}
	if _, err := ParseLibxl("libxl.conf", uncomment(text)); err != nil {
		t.Errorf("with every example uncommented: %v", err)
	}
}
