// Package loglevel gives each component of the broker its own slog level,
// changeable at run time: Kafka's BROKER_LOGGER config resource
// (DescribeConfigs lists the loggers and their levels,
// IncrementalAlterConfigs sets or resets one).
//
// One handler (the process's text or JSON handler) receives every
// record; each component's logger filters by its own level before it.
// The root logger's level is the default of every component whose level
// was not set; resetting a component (Kafka's DELETE) makes it follow the
// root again.
//
// Promises:
//   - A record passes a logger only at or above the logger's effective
//     level and only if the underlying handler is enabled for it: a
//     level set below what the handler was built for shows nothing more,
//     so the process builds its handler at the lowest level (TRACE) and
//     gives the --log-level to the root (New).
//   - Levels are read with atomic loads on every record: a change applies
//     to the next record, with no lock on the logging path.
//   - The set of loggers is fixed when the broker starts (Logger
//     registers a name); SetLevel and Reset on another name return
//     ErrUnknownLogger, as Kafka answers for a logger that does not exist.
package loglevel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Root is the root logger's name, as Kafka names it.
const Root = "root"

// Kafka's level names, mapped to slog levels. TRACE and FATAL have no
// slog constant: they are the next steps of four below DEBUG and above
// ERROR, slog's own spacing.
const (
	LevelTrace = slog.LevelDebug - 4
	LevelFatal = slog.LevelError + 4
)

// ValidLevels are the level names IncrementalAlterConfigs accepts, in
// Kafka's order (LogLevelConfig.VALID_LOG_LEVELS).
var ValidLevels = []string{"FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"}

// ErrUnknownLogger is returned for a logger name never registered.
var ErrUnknownLogger = errors.New("logger does not exist")

// ErrInvalidLevel is returned by ParseLevel for a name not in ValidLevels.
var ErrInvalidLevel = errors.New("not a supported log level")

// ParseLevel maps a Kafka level name (any case) to its slog level.
func ParseLevel(name string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "TRACE":
		return LevelTrace, nil
	case "DEBUG":
		return slog.LevelDebug, nil
	case "INFO":
		return slog.LevelInfo, nil
	case "WARN":
		return slog.LevelWarn, nil
	case "ERROR":
		return slog.LevelError, nil
	case "FATAL":
		return LevelFatal, nil
	}
	return 0, fmt.Errorf("%w: %q (valid: %s)", ErrInvalidLevel, name, strings.Join(ValidLevels, ", "))
}

// LevelName is the Kafka name of a slog level: the highest Kafka level
// at or below it (slog.LevelInfo+2 is INFO).
func LevelName(l slog.Level) string {
	switch {
	case l >= LevelFatal:
		return "FATAL"
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARN"
	case l >= slog.LevelInfo:
		return "INFO"
	case l >= slog.LevelDebug:
		return "DEBUG"
	}
	return "TRACE"
}

// Levels holds the loggers of one broker and their levels. It is safe for
// concurrent use.
type Levels struct {
	base slog.Handler
	root atomic.Int64

	mu    sync.Mutex
	comps map[string]*component
}

// component is one named logger's level: its own when set, the root's
// otherwise.
type component struct {
	level atomic.Int64
	set   atomic.Bool
}

// New returns the loggers writing to base, the root at level root.
func New(base slog.Handler, root slog.Level) *Levels {
	l := &Levels{base: base, comps: map[string]*component{}}
	l.root.Store(int64(root))
	return l
}

// FromLogger wraps an existing logger (one built without this package,
// as tests build theirs): the root level is the lowest level its handler
// is enabled for, so that nothing it logged before is lost.
func FromLogger(logger *slog.Logger) *Levels {
	h := logger.Handler()
	root := LevelFatal
	for _, lv := range []slog.Level{LevelTrace, slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
		if h.Enabled(context.Background(), lv) {
			root = lv
			break
		}
	}
	return New(h, root)
}

// Logger returns the logger of a component, registering its name (Root:
// the root logger itself). Every call for a name shares its level.
func (l *Levels) Logger(name string) *slog.Logger {
	if name == Root {
		return slog.New(&handler{inner: l.base, l: l})
	}
	l.mu.Lock()
	c, ok := l.comps[name]
	if !ok {
		c = &component{}
		l.comps[name] = c
	}
	l.mu.Unlock()
	return slog.New(&handler{inner: l.base, l: l, c: c})
}

// Register registers loggers by name without building them, so that
// they are listed (and can be set) before their component first logs.
func (l *Levels) Register(names ...string) {
	for _, n := range names {
		l.Logger(n)
	}
}

// Logger is one logger as DescribeConfigs lists it.
type Logger struct {
	Name  string
	Level slog.Level // the effective level
	Set   bool       // set on this logger rather than following the root
}

// List returns the root and every registered logger, root first, then by
// name.
func (l *Levels) List() []Logger {
	out := []Logger{{Name: Root, Level: slog.Level(l.root.Load()), Set: true}}
	l.mu.Lock()
	for name, c := range l.comps {
		out = append(out, Logger{Name: name, Level: l.effective(c), Set: c.set.Load()})
	}
	l.mu.Unlock()
	sort.Slice(out[1:], func(i, j int) bool { return out[1+i].Name < out[1+j].Name })
	return out
}

// Exists reports whether name is the root or a registered logger.
func (l *Levels) Exists(name string) bool {
	if name == Root {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.comps[name]
	return ok
}

// SetLevel sets a logger's level (the root's: the level of every logger
// not set on its own).
func (l *Levels) SetLevel(name string, level slog.Level) error {
	if name == Root {
		l.root.Store(int64(level))
		return nil
	}
	c, err := l.lookup(name)
	if err != nil {
		return err
	}
	c.level.Store(int64(level))
	c.set.Store(true)
	return nil
}

// Reset makes a logger follow the root's level again. The root itself
// cannot be reset (Kafka refuses to remove its level).
func (l *Levels) Reset(name string) error {
	if name == Root {
		return fmt.Errorf("removing the level of the %s logger is not allowed", Root)
	}
	c, err := l.lookup(name)
	if err != nil {
		return err
	}
	c.set.Store(false)
	return nil
}

func (l *Levels) lookup(name string) (*component, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.comps[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownLogger, name)
	}
	return c, nil
}

// effective is a component's level: its own if set, else the root's.
func (l *Levels) effective(c *component) slog.Level {
	if c != nil && c.set.Load() {
		return slog.Level(c.level.Load())
	}
	return slog.Level(l.root.Load())
}

// handler filters records by a logger's effective level before the
// shared handler sees them.
type handler struct {
	inner slog.Handler
	l     *Levels
	c     *component // nil for the root
}

func (h *handler) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= h.l.effective(h.c) && h.inner.Enabled(ctx, lv)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error { return h.inner.Handle(ctx, r) }

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{inner: h.inner.WithAttrs(attrs), l: h.l, c: h.c}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{inner: h.inner.WithGroup(name), l: h.l, c: h.c}
}
