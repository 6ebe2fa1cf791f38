package libxl

// vdevNumber is the virtual block device number of a disk's name, read
// as QEMU's xen-block reads the name libxl gives it (xen_block_set_vdev in
// QEMU 7.2): "xvd", "hd" or "sd" and the disk in letters ("a" is 0, "aa"
// 26), or "d" and the disk in digits, then a partition in digits ("p"
// before it after "d<disk>"), 0 when none. So libxl's "xvda" and QEMU's own
// spelling of the same device, "xvda0", are one number, 51712, which is
// also libxl's devid of the disk. The numbering is vdevName's.
func vdevNumber(name string) (int, bool) {
	var prefix string
	for _, p := range []string{"xvd", "hd", "sd", "d"} {
		if len(name) > len(p) && name[:len(p)] == p {
			prefix, name = p, name[len(p):]
			break
		}
	}
	var disk, partition int
	var ok bool
	switch prefix {
	case "":
		return 0, false
	case "d":
		if disk, name, ok = digits(name); !ok {
			return 0, false
		}
		if name != "" && name[0] == 'p' {
			if name = name[1:]; name == "" {
				return 0, false
			}
		}
	default:
		if disk, name, ok = letters(name); !ok {
			return 0, false
		}
	}
	if name != "" {
		if partition, name, ok = digits(name); !ok || name != "" {
			return 0, false
		}
	}
	switch prefix {
	case "xvd", "d":
		if disk < 1<<4 && partition < 1<<4 {
			return 202<<8 | disk<<4 | partition, true
		}
		if disk < 1<<20 && partition < 1<<8 {
			return 1<<28 | disk<<8 | partition, true
		}
	case "hd":
		if disk < 2 && partition < 1<<6 {
			return 3<<8 | disk<<6 | partition, true
		}
		if disk < 4 && partition < 1<<6 {
			return 22<<8 | (disk-2)<<6 | partition, true
		}
	case "sd":
		if disk < 1<<4 && partition < 1<<4 {
			return 8<<8 | disk<<4 | partition, true
		}
	}
	return 0, false
}

// letters reads a disk's letters, bijective base 26 ("a" 0, "z" 25, "aa"
// 26), from the start of s; past 1<<20 disks (the most a number holds) it
// fails.
func letters(s string) (int, string, bool) {
	n, i := 0, 0
	for ; i < len(s) && s[i] >= 'a' && s[i] <= 'z'; i++ {
		if n = n*26 + int(s[i]-'a') + 1; n > 1<<20 {
			return 0, "", false
		}
	}
	if i == 0 {
		return 0, "", false
	}
	return n - 1, s[i:], true
}

// digits reads a decimal number of at most 9 digits from the start of s.
func digits(s string) (int, string, bool) {
	n, i := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if i == 9 {
			return 0, "", false
		}
		n = n*10 + int(s[i]-'0')
	}
	if i == 0 {
		return 0, "", false
	}
	return n, s[i:], true
}
