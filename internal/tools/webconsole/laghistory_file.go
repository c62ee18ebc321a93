package webconsole

// laghistory_file.go is the lag history's file (format in laghistory.go):
// encoding a round as a checksummed line, decoding the file line by line
// (a damaged line is skipped, never the file), opening it at start-up with
// its recovery, appending a round, and rewriting the file atomically.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

const (
	// lagFileName is the history's file in the data directory.
	lagFileName = "lag-history"
	// lagFileMagic and lagFileVersion make the file's first line.
	lagFileMagic   = "courier-lag-history"
	lagFileVersion = 1
	// lagMaxLine bounds a line the decoder accepts: a round of
	// lagDefaultMaxGroups groups with long names is far below it.
	lagMaxLine = 64 << 20
)

// castagnoli is CRC-32C, the checksum of every line.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// lagHeader is the file's first line.
var lagHeader = fmt.Sprintf("%s %d\n", lagFileMagic, lagFileVersion)

// lagPayload is a round as JSON: "g" maps a group to [records, seconds].
type lagPayload struct {
	T uint32              `json:"t"`
	G map[string][2]int64 `json:"g"`
}

// encodeLagRound returns r as one line, newline included.
func encodeLagRound(r lagRound) []byte {
	p := lagPayload{T: r.At, G: make(map[string][2]int64, len(r.Samples))}
	for g, s := range r.Samples {
		t := int64(s.TimeLag)
		if s.TimeLag == lagNoTime {
			t = -1
		}
		p.G[g] = [2]int64{s.Records, t}
	}
	payload, _ := json.Marshal(p) // maps of strings to numbers always encode
	line := make([]byte, 0, len(payload)+10)
	line = fmt.Appendf(line, "%08x ", crc32.Checksum(payload, castagnoli))
	line = append(line, payload...)
	return append(line, '\n')
}

// decodeLagLine reads one line (without its newline): its checksum, then
// its round, every value checked.
func decodeLagLine(line []byte) (lagRound, error) {
	if len(line) < 10 || line[8] != ' ' {
		return lagRound{}, errors.New("no checksum")
	}
	want, err := hex.DecodeString(string(line[:8]))
	if err != nil {
		return lagRound{}, fmt.Errorf("checksum %q: %w", line[:8], err)
	}
	payload := line[9:]
	if got := crc32.Checksum(payload, castagnoli); got != uint32(want[0])<<24|uint32(want[1])<<16|uint32(want[2])<<8|uint32(want[3]) {
		return lagRound{}, errors.New("checksum mismatch")
	}
	var p lagPayload
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return lagRound{}, fmt.Errorf("payload: %w", err)
	}
	if dec.More() {
		return lagRound{}, errors.New("payload: data after the round")
	}
	if p.T == 0 || p.G == nil {
		return lagRound{}, errors.New("payload: no time or no groups")
	}
	r := lagRound{At: p.T, Samples: make(map[string]lagSample, len(p.G))}
	for g, v := range p.G {
		if v[0] < -1 || v[1] < -1 || v[1] >= lagNoTime {
			return lagRound{}, fmt.Errorf("payload: group %q: invalid lag %v", g, v)
		}
		s := lagSample{At: p.T, Records: v[0], TimeLag: lagNoTime}
		if v[1] >= 0 {
			s.TimeLag = uint32(v[1])
		}
		r.Samples[g] = s
	}
	return r, nil
}

// errLagFormat is a file the console must not read nor touch: another
// format version, or not a lag history at all.
var errLagFormat = errors.New("not a lag history this console reads")

// lagFile is what decodeLagFile read.
type lagFile struct {
	rounds  []lagRound
	damaged []int    // the line numbers (1-based) skipped
	bad     [][]byte // those lines
	torn    bool     // the file does not end with a newline (a write cut short)
}

// decodeLagFile reads a file's content: the header, then every line it
// can. A header of another version or none is errLagFormat.
func decodeLagFile(data []byte) (lagFile, error) {
	var f lagFile
	if len(data) == 0 {
		return f, nil
	}
	first, rest, ok := bytes.Cut(data, []byte{'\n'})
	magic, version, _ := strings.Cut(string(first), " ")
	if magic != lagFileMagic {
		return f, fmt.Errorf("%w: its first line is %q", errLagFormat, truncate(string(first), 60))
	}
	if version != strconv.Itoa(lagFileVersion) || !ok {
		return f, fmt.Errorf("%w: format version %q, this console reads %d", errLagFormat, truncate(version, 20), lagFileVersion)
	}
	f.torn = len(rest) > 0 && rest[len(rest)-1] != '\n'
	for n := 2; len(rest) > 0; n++ {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte{'\n'})
		if len(line) > lagMaxLine {
			f.damaged, f.bad = append(f.damaged, n), append(f.bad, line[:256])
			continue
		}
		r, err := decodeLagLine(line)
		if err != nil {
			f.damaged, f.bad = append(f.damaged, n), append(f.bad, line)
			continue
		}
		f.rounds = append(f.rounds, r)
	}
	return f, nil
}

// truncate cuts s to n bytes for a message.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// openLagHistory opens the history of dataDir ("": memory only; made if
// it does not exist): it reads
// the file, skipping damaged lines (kept aside and reported), and rewrites
// it without them. A file of another format is refused, left as it is,
// and the history kept in memory only.
func openLagHistory(log *slog.Logger, m *lagMetrics, maxGroups int, dataDir string, now time.Time) *lagHistory {
	if dataDir == "" {
		return newLagHistory(log, m, maxGroups, "no data directory: the history is kept in memory only and lost at a restart")
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		log.Error("console lag history: cannot make the data directory; the history is kept in memory only", "dir", dataDir, "err", err)
		return newLagHistory(log, m, maxGroups, fmt.Sprintf("cannot make %s (%v): the history is kept in memory only", dataDir, err))
	}
	path := filepath.Join(dataDir, lagFileName)
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Error("console lag history: cannot read the file; the history is kept in memory only", "path", path, "err", err)
		return newLagHistory(log, m, maxGroups, fmt.Sprintf("cannot read %s (%v): the history is kept in memory only", path, err))
	}
	f, err := decodeLagFile(data)
	if err != nil {
		m.refused.Set(1)
		log.Error("console lag history: the file is refused and left untouched; the history is kept in memory only", "path", path, "err", err)
		return newLagHistory(log, m, maxGroups, fmt.Sprintf("%s is refused (%v): it is left untouched and the history is kept in memory only", path, err))
	}
	h := newLagHistory(log, m, maxGroups, "")
	h.path = path
	from := cutoff(now)
	for _, r := range f.rounds {
		if r.At >= from {
			h.add(r, false)
		}
	}
	h.lines = len(f.rounds)
	if len(f.damaged) > 0 {
		m.damaged.Add(float64(len(f.damaged)))
		aside := path + ".damaged"
		if err := vfs.WriteAtomic(vfs.Default, aside, bytes.Join(append(f.bad, nil), []byte{'\n'}), 0o644); err != nil {
			// Without a copy of what is skipped, keep the file as it is:
			// its good lines are read at every start, the bad skipped.
			log.Error("console lag history: damaged lines skipped, but they could not be kept aside: the file is left as it is", "path", path, "lines", f.damaged, "err", err)
			return h
		}
		log.Warn("console lag history: damaged lines skipped (a torn write or a damaged disk); they are kept aside and the file rewritten without them",
			"path", path, "skipped", len(f.damaged), "lines", firstN(f.damaged, 10), "aside", aside, "rounds", len(f.rounds))
	}
	if len(data) == 0 || len(f.damaged) > 0 || f.torn {
		h.rewrite(now)
	}
	log.Info("console lag history opened", "path", path, "rounds", len(f.rounds), "groups", len(h.groups))
	return h
}

// firstN returns at most n of xs.
func firstN(xs []int, n int) []int { return xs[:min(len(xs), n)] }

// appendLagRound appends r to the file at path as one line and syncs it.
func appendLagRound(path string, r lagRound) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if _, err := f.Write(encodeLagRound(r)); err != nil {
		f.Close()
		return fmt.Errorf("append to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}

// writeLagFile writes the history file at path anew with rounds.
func writeLagFile(path string, rounds []lagRound) error {
	var b bytes.Buffer
	b.WriteString(lagHeader)
	for _, r := range rounds {
		b.Write(encodeLagRound(r))
	}
	return vfs.WriteAtomic(vfs.Default, path, b.Bytes(), 0o644)
}
