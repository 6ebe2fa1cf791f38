package virconf

import "math"

// The getters below read one key with libvirt's typing rules
// (virConfGetValue*): ok is false when the key is absent, and a present
// value of the wrong type or range is an *Error naming the key and line.

// GetString reads a string.
func (f *File) GetString(key string) (s string, ok bool, err error) {
	v, ok := f.Lookup(key)
	if !ok {
		return "", false, nil
	}
	if v.Kind != String {
		return "", true, f.Errorf(key, "expected a string")
	}
	return v.Str, true, nil
}

// GetStringList reads a list of strings. A lone string is not a list.
func (f *File) GetStringList(key string) (l []string, ok bool, err error) {
	v, ok := f.Lookup(key)
	if !ok {
		return nil, false, nil
	}
	if v.Kind != List {
		return nil, true, f.Errorf(key, "expected a string list")
	}
	l = make([]string, 0, len(v.List))
	for _, item := range v.List {
		if item.Kind != String {
			return nil, true, f.Errorf(key, "expected a string list")
		}
		l = append(l, item.Str)
	}
	return l, true, nil
}

// GetUint reads an unsigned integer that fits libvirt's unsigned int.
func (f *File) GetUint(key string) (n uint, ok bool, err error) {
	u, ok, err := f.getUnsigned(key, math.MaxUint32)
	return uint(u), ok, err
}

// GetUint64 reads an unsigned integer of up to 63 bits.
func (f *File) GetUint64(key string) (n uint64, ok bool, err error) {
	return f.getUnsigned(key, math.MaxInt64)
}

func (f *File) getUnsigned(key string, limit uint64) (uint64, bool, error) {
	v, ok := f.Lookup(key)
	if !ok {
		return 0, false, nil
	}
	if v.Kind != Int || v.Signed {
		return 0, true, f.Errorf(key, "expected an unsigned integer")
	}
	if uint64(v.Int) > limit {
		return 0, true, f.Errorf(key, "value must be in range 0:%d", limit)
	}
	return uint64(v.Int), true, nil
}

// GetInt reads a signed integer that fits libvirt's int.
func (f *File) GetInt(key string) (n int, ok bool, err error) {
	v, ok := f.Lookup(key)
	if !ok {
		return 0, false, nil
	}
	if v.Kind != Int {
		return 0, true, f.Errorf(key, "expected a signed integer")
	}
	if v.Int < math.MinInt32 || v.Int > math.MaxInt32 {
		return 0, true, f.Errorf(key, "value must be in range %d:%d", math.MinInt32, math.MaxInt32)
	}
	return int(v.Int), true, nil
}

// GetBool reads a boolean, written 0 or 1.
func (f *File) GetBool(key string) (b bool, ok bool, err error) {
	v, ok := f.Lookup(key)
	if !ok {
		return false, false, nil
	}
	if v.Kind != Int || v.Signed {
		return false, true, f.Errorf(key, "expected a bool")
	}
	if v.Int > 1 {
		return false, true, f.Errorf(key, "value must be 0 or 1")
	}
	return v.Int == 1, true, nil
}
