package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestDSN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://user:secret@127.0.0.1:1/x", "postgres://user:xxxxx@127.0.0.1:1/x"},
		{"postgresql://u:secret@db:5432/riders?sslmode=require", "postgresql://u:xxxxx@db:5432/riders?sslmode=require"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://h:5432/db", "postgres://h:5432/db"},
		{"postgres://u:@h/db", "postgres://u:xxxxx@h/db"},
		// Unescaped '@', '/' and '?' in the password: masked whole.
		{"postgres://u:p@ss@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:12/x@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:a?b@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:se:cret@h/db", "postgres://u:xxxxx@h/db"},
		// Passwords in the query, any case, escaped key.
		{"postgres://h/db?user=u&password=secret&sslmode=disable", "postgres://h/db?user=u&password=xxxxx&sslmode=disable"},
		{"postgres://h/db?PASSWORD=secret", "postgres://h/db?PASSWORD=xxxxx"},
		{"postgres://h/db?sslpassword=secret", "postgres://h/db?sslpassword=xxxxx"},
		{"postgres://h/db?pass%77ord=secret", "postgres://h/db?pass%77ord=xxxxx"},
		{"postgres://u:one@h/db?password=two", "postgres://u:xxxxx@h/db?password=xxxxx"},
		// key=value DSNs.
		{"host=h user=u password=secret dbname=x", "host=h user=u password=xxxxx dbname=x"},
		{"host=h password='se cret' dbname=x", "host=h password=xxxxx dbname=x"},
		{`host=h password='it\'s' dbname=x`, "host=h password=xxxxx dbname=x"},
		{"host=h password = secret", "host=h password=xxxxx"},
		{"host=h sslpassword=secret PASSWORD=two", "host=h sslpassword=xxxxx PASSWORD=xxxxx"},
		{"host=h password='unterminated", "host=h password=xxxxx"},
		// Other URLs (the simulator's --gateway).
		{"http://rider:secret@127.0.0.1:8081", "http://rider:xxxxx@127.0.0.1:8081"},
		{"http://127.0.0.1:8081", "http://127.0.0.1:8081"},
		// SQLite paths are never touched.
		{"sqlite:riders.db", "sqlite:riders.db"},
		{"sqlite:/tmp/a:b@c.db?synchronous=normal", "sqlite:/tmp/a:b@c.db?synchronous=normal"},
		{"sqlite:///srv/u:p@x.db", "sqlite:///srv/u:p@x.db"},
		{"file:password=x.db", "file:password=x.db"},
		{"", ""},
	} {
		if got := DSN(tc.in); got != tc.want {
			t.Errorf("DSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestError(t *testing.T) {
	const dsn = "postgres://user:s3cret@127.0.0.1:1/x?sslpassword=k3y%21"
	base := fs.ErrNotExist
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"dsn quoted", fmt.Errorf("open %q: %w", dsn, base), `open "postgres://user:xxxxx@127.0.0.1:1/x?sslpassword=xxxxx": file does not exist`},
		{"password alone", fmt.Errorf("auth failed for s3cret: %w", base), "auth failed for xxxxx: file does not exist"},
		{"unescaped query value", fmt.Errorf("bad key k3y!: %w", base), "bad key xxxxx: file does not exist"},
		{"nothing to hide", fmt.Errorf("dial 127.0.0.1:1: %w", base), "dial 127.0.0.1:1: file does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Error(tc.err, dsn)
			if got.Error() != tc.want {
				t.Errorf("Error() = %q, want %q", got.Error(), tc.want)
			}
			if !errors.Is(got, base) {
				t.Errorf("errors.Is lost the wrapped error")
			}
		})
	}
	if Error(nil, dsn) != nil {
		t.Error("Error(nil) is not nil")
	}
	// A password too short to look for is not hunted in ordinary words.
	if got := Error(errors.New("database x"), "postgres://u:x@h/db").Error(); got != "database x" {
		t.Errorf("short password: %q", got)
	}
}

// FuzzDSN checks that a URL's or a key=value DSN's password, whatever its
// characters, never survives, and that DSN never panics.
func FuzzDSN(f *testing.F) {
	for _, s := range []string{"secret", "p@ss", "a/b?c#d", "se:cret", "", "'", `\`, "x y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		if got, want := DSN("postgres://u:"+pw+"@h:5432/db"), "postgres://u:xxxxx@h:5432/db"; got != want {
			t.Errorf("URL with password %q: %q, want %q", pw, got, want)
		}
		if got, want := DSN("postgres://h/db?password="+pw), "postgres://h/db?password=xxxxx"; !strings.ContainsAny(pw, "&") && got != want {
			t.Errorf("query password %q: %q, want %q", pw, got, want)
		}
		// An empty value makes libpq read the next word as the password.
		if pw != "" && !strings.ContainsAny(pw, " \t\r\n\v\f'\\") {
			if got, want := DSN("host=h password="+pw+" dbname=x"), "host=h password=xxxxx dbname=x"; got != want {
				t.Errorf("key=value password %q: %q, want %q", pw, got, want)
			}
		}
		if got := DSN("sqlite:" + pw); got != "sqlite:"+pw {
			t.Errorf("sqlite path changed: %q", got)
		}
		_ = DSN(pw)
	})
}
