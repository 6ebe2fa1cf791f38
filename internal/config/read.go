package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// maxFileSize is libvirt's sanity limit on a configuration file (10 MiB).
const maxFileSize = 10 << 20

// readFile returns the file's bytes. A file that does not exist yields
// exists false and no error when missingOK; any other failure to read it
// is an error naming the file.
func readFile(path string, missingOK bool) (data []byte, exists bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		if missingOK && errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return nil, false, readError(path, err)
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, true, readError(path, err)
	}
	if len(data) > maxFileSize {
		return nil, true, fmt.Errorf("%s: cannot read configuration file: larger than %d bytes", path, maxFileSize)
	}
	return data, true, nil
}

func readError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is already in front
	}
	return fmt.Errorf("%s: cannot read configuration file: %w", path, err)
}
