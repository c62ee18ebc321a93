package loglevel

// loglevel_test.go checks level names both ways, that a component
// follows the root until set and again after Reset, and that the
// underlying handler's own level still bounds what passes.

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLevelNames(t *testing.T) {
	for _, name := range ValidLevels {
		lv, err := ParseLevel(strings.ToLower(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := LevelName(lv); got != name {
			t.Errorf("LevelName(ParseLevel(%s)) = %s", name, got)
		}
	}
	if _, err := ParseLevel("LOUD"); err == nil {
		t.Error("LOUD accepted")
	}
	if got := LevelName(slog.LevelInfo + 2); got != "INFO" {
		t.Errorf("INFO+2 named %s", got)
	}
}

func TestComponentFollowsRoot(t *testing.T) {
	var buf bytes.Buffer
	l := New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: LevelTrace}), slog.LevelInfo)
	st := l.Logger("storage")
	steps := []struct {
		do    func() error
		debug bool // whether st's debug lines pass after do
	}{
		{func() error { return nil }, false},
		{func() error { return l.SetLevel(Root, slog.LevelDebug) }, true},
		{func() error { return l.SetLevel("storage", slog.LevelWarn) }, false},
		{func() error { return l.Reset("storage") }, true},
		{func() error { return l.SetLevel(Root, slog.LevelError) }, false},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		buf.Reset()
		st.Debug("probe")
		if got := strings.Contains(buf.String(), "probe"); got != s.debug {
			t.Errorf("step %d: debug line shown %v, want %v", i, got, s.debug)
		}
	}
	if err := l.Reset(Root); err == nil {
		t.Error("root reset")
	}
	if err := l.SetLevel("nope", slog.LevelInfo); err == nil {
		t.Error("unknown logger set")
	}
}

// TestFromLoggerKeepsHandlerLevel: wrapping a logger built at WARN keeps
// the root at WARN, and raising a component cannot show what the handler
// drops.
func TestFromLoggerKeepsHandlerLevel(t *testing.T) {
	var buf bytes.Buffer
	l := FromLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if got := l.List()[0]; got.Name != Root || got.Level != slog.LevelWarn {
		t.Fatalf("root %+v, want WARN", got)
	}
	c := l.Logger("c")
	_ = l.SetLevel("c", slog.LevelDebug)
	c.Info("hidden")
	c.With("k", "v").Warn("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "shown k=v") {
		t.Fatalf("output %q", buf.String())
	}
}

// FuzzParseLevel: any input either parses to a level whose name parses
// back to it, or is refused; never a panic.
func FuzzParseLevel(f *testing.F) {
	for _, s := range append(ValidLevels, "", "info", " Warn ", "OFF", "ALL") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lv, err := ParseLevel(s)
		if err != nil {
			return
		}
		back, err := ParseLevel(LevelName(lv))
		if err != nil || back != lv {
			t.Fatalf("%q -> %v -> %q -> %v %v", s, lv, LevelName(lv), back, err)
		}
	})
}
