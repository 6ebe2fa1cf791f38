package xlcfg

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

const maxBitmap = 4096

// parseBitmap reads a CPU list as virBitmapParse does: "0-3,^2,8".
func parseBitmap(s string) ([]int, error) {
	set := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, errors.New("empty")
		}
		neg := strings.HasPrefix(part, "^")
		part = strings.TrimPrefix(part, "^")
		lo, hi, err := bitRange(part)
		if err != nil {
			return nil, err
		}
		if neg && lo != hi {
			return nil, errors.New("negated range")
		}
		for i := lo; i <= hi; i++ {
			if neg {
				delete(set, i)
			} else {
				set[i] = true
			}
		}
	}
	out := make([]int, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	sort.Ints(out)
	return out, nil
}

func bitRange(s string) (int, int, error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.Atoi(strings.TrimSpace(a))
	if err != nil || lo < 0 || lo >= maxBitmap {
		return 0, 0, errors.New("bad")
	}
	if !isRange {
		return lo, lo, nil
	}
	hi, err := strconv.Atoi(strings.TrimSpace(b))
	if err != nil || hi < lo || hi >= maxBitmap {
		return 0, 0, errors.New("bad")
	}
	return lo, hi, nil
}

// formatBitmap writes a sorted set as virBitmapFormat does: "0-3,8".
func formatBitmap(set []int) string {
	var parts []string
	for i := 0; i < len(set); {
		j := i
		for j+1 < len(set) && set[j+1] == set[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(set[i]))
		} else {
			parts = append(parts, strconv.Itoa(set[i])+"-"+strconv.Itoa(set[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
