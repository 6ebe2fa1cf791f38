package migration

import (
	"virtxend/internal/backend"
	"virtxend/internal/virstring"
)

// parseUUID is virUUIDParse: blanks around, 32 hex digits in pairs with
// '-' or ' ' allowed between pairs.
func parseUUID(s string) (backend.UUID, bool) {
	var u backend.UUID
	i := 0
	for i < len(s) && virstring.IsSpace(s[i]) {
		i++
	}
	for n := 0; n < len(u); {
		if i >= len(s) {
			return u, false
		}
		if s[i] == '-' || s[i] == ' ' {
			i++
			continue
		}
		hi, ok1 := virstring.HexDigit(s[i])
		if !ok1 || i+1 >= len(s) {
			return u, false
		}
		lo, ok2 := virstring.HexDigit(s[i+1])
		if !ok2 {
			return u, false
		}
		u[n] = hi<<4 | lo
		n, i = n+1, i+2
	}
	for ; i < len(s); i++ {
		if !virstring.IsSpace(s[i]) {
			return u, false
		}
	}
	return u, true
}
