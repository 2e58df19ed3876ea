package nsutil

import (
	"fmt"
	"path/filepath"
)

// MaxName bounds a name that becomes a file name (Linux's NAME_MAX).
const MaxName = 255

// CheckName reports why name cannot be one file name in a directory
// netyard manages (/run/netns, /etc/netns, its state directory): it must
// be 1 to MaxName bytes of letters, digits, '_', '.' and '-', start with a
// letter or digit (so never "." or ".."), as Docker's container names.
func CheckName(name string) error {
	if len(name) == 0 || len(name) > MaxName {
		return fmt.Errorf("nsutil: name %q must be 1-%d bytes", name, MaxName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return fmt.Errorf("nsutil: name %q: only letters, digits, '_', '.' and '-', starting with a letter or digit", name)
		}
	}
	return nil
}

// Inside returns dir/name after checking that name is a valid name
// (CheckName) and that the path stays directly inside dir.
func Inside(dir, name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	if filepath.Dir(p) != filepath.Clean(dir) || filepath.Base(p) != name {
		return "", fmt.Errorf("nsutil: %q leaves %s", name, dir)
	}
	return p, nil
}
