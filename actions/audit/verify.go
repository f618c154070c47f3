package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
)

// ErrNoLog is returned (wrapped, naming the path) by VerifyFile when there is no log to verify:
// verifying nothing is not "valid". No log yet is normal before the first guarded action.
var ErrNoLog = errors.New("no audit log")

// Report is what Verify found.
type Report struct {
	// Records is the number of complete records that verified.
	Records int
	// Head is the hex SHA-256 of the last verified line: anchor it elsewhere to detect a
	// later truncation or replacement of the newest record. HeadSeq is that record's Seq.
	Head    string
	HeadSeq int64
	// IncompleteTail is the length of an incomplete last line (a writer killed mid-write, or
	// the file was cut): the log cannot show what that record said, so the report is not OK.
	// The next append repairs it and records the repair.
	IncompleteTail int
	// Broken is the first record that does not verify, nil when the chain is whole.
	Broken *BrokenRecord
	// Repairs are the records that say an incomplete line before them was repaired.
	Repairs []BrokenRecord
	// Anchor is the head hash the chain was checked against ("" when none); AnchorLine and
	// AnchorSeq locate it, 0 when the log no longer contains it.
	Anchor     string
	AnchorLine int
	AnchorSeq  int64
}

// OK reports whether the whole chain verified: no broken record, no incomplete last line,
// and the anchored head, if any, still in the chain.
func (r Report) OK() bool { return r.Problem() == "" }

// Problem says, in one line a reviewer can act on, why the report is not OK; "" when it is.
func (r Report) Problem() string {
	var p []string
	if r.Broken != nil {
		p = append(p, fmt.Sprintf("chain broken at %v (%d records before it verify)", r.Broken, r.Records))
	}
	if r.IncompleteTail > 0 {
		p = append(p, fmt.Sprintf("the last line is incomplete (%d bytes, no newline): a writer was killed mid-write or the log was cut after record %d; "+
			"what that record said is lost, and the next action will record the repair", r.IncompleteTail, r.HeadSeq))
	}
	if r.Anchor != "" && r.AnchorLine == 0 && r.Broken == nil {
		p = append(p, fmt.Sprintf("the anchored head %s is not in the log: records up to and including it were removed or changed", r.Anchor))
	}
	return strings.Join(p, "; ")
}

// BrokenRecord names the first line that breaks the chain.
type BrokenRecord struct {
	// Line is the 1-based line number.
	Line int
	// Seq is the record's own sequence number, 0 when it could not be parsed.
	Seq int64
	// Reason says what is wrong, in words a reviewer can act on.
	Reason string
}

func (b *BrokenRecord) Error() string {
	return fmt.Sprintf("line %d (seq %d): %s", b.Line, b.Seq, b.Reason)
}

// VerifyFile verifies the log at path (see Verify). A missing file is ErrNoLog; a symbolic
// link is ErrSymlink.
func VerifyFile(path string) (Report, error) {
	return VerifyFileAnchored(path, "")
}

// VerifyFileAnchored is VerifyFile that also checks the chain against a head hash noted
// earlier (see VerifyAnchored).
func VerifyFileAnchored(path, head string) (Report, error) {
	f, err := openNoFollow(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return Report{}, fmt.Errorf("%w at %s: nothing to verify (vigil writes it on the first guarded action)", ErrNoLog, path)
	}
	if err != nil {
		return Report{}, err
	}
	defer f.Close()
	return VerifyAnchored(f, head)
}

// Verify reads a whole log and checks, for each complete line, that it is a record, that its
// Prev is the SHA-256 of the line before (empty for the first) and that Seq counts up by one
// (or skips, in a record that says it repaired an incomplete line before it). It stops at the
// first broken record. An incomplete last line is counted in IncompleteTail.
func Verify(r io.Reader) (Report, error) {
	return VerifyAnchored(r, "")
}

// VerifyAnchored is Verify that also looks for the line whose SHA-256 is head (a head a
// reviewer noted earlier). Found, with the chain whole up to it, nothing up to that record was
// changed, removed or reordered since; not found, the report is not OK.
func VerifyAnchored(r io.Reader, head string) (Report, error) {
	v := verifier{rep: Report{Anchor: strings.ToLower(strings.TrimSpace(head))}}
	err := v.read(bufio.NewReaderSize(r, 1<<16), nil)
	return v.rep, err
}

// verifier is the state of a verification: the report so far and the chain's last link.
type verifier struct {
	rep     Report
	prevSum string
	prevSeq int64
	lines   int   // complete lines verified
	end     int64 // offset just past the last complete line read
	lastLen int   // length of the last verified line, without its newline
}

// read verifies the complete lines of br after those already verified, passing each
// verified record to keep (when not nil). It stops at the first broken record; an incomplete
// last line is counted in IncompleteTail and left unread.
func (v *verifier) read(br *bufio.Reader, keep func(Record)) error {
	for {
		b, err := br.ReadBytes('\n')
		if err == io.EOF {
			v.rep.IncompleteTail = len(b)
			return nil
		}
		if err != nil {
			return err
		}
		line := v.lines + 1
		n := int64(len(b))
		b = bytes.TrimSuffix(b, []byte{'\n'})
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			v.rep.Broken = &BrokenRecord{Line: line, Reason: fmt.Sprintf("not a JSON record (%v): the line was edited or damaged", err)}
			return nil
		}
		switch {
		case rec.Prev != v.prevSum && line == 1:
			v.rep.Broken = &BrokenRecord{Line: line, Seq: rec.Seq, Reason: "the first line points at a previous record: records before it were deleted"}
		case rec.Prev != v.prevSum:
			v.rep.Broken = &BrokenRecord{Line: line, Seq: rec.Seq, Reason: fmt.Sprintf(
				"its prev hash does not match line %d: line %d was edited, or records between them were deleted or reordered", line-1, line-1)}
		case rec.Seq > v.prevSeq+1 && rec.Repaired != "":
			// A cut fragment's number is skipped, never reused; the record says so.
		case rec.Seq != v.prevSeq+1:
			v.rep.Broken = &BrokenRecord{Line: line, Seq: rec.Seq, Reason: fmt.Sprintf("sequence number %d follows %d: the record itself was edited", rec.Seq, v.prevSeq)}
		}
		if v.rep.Broken != nil {
			return nil
		}
		if rec.Repaired != "" {
			v.rep.Repairs = append(v.rep.Repairs, BrokenRecord{Line: line, Seq: rec.Seq, Reason: rec.Repaired})
		}
		v.prevSum, v.prevSeq = lineHash(b), rec.Seq
		v.lines, v.end, v.lastLen = line, v.end+n, len(b)
		v.rep.Records++
		v.rep.Head, v.rep.HeadSeq = v.prevSum, rec.Seq
		if v.rep.Anchor != "" && v.prevSum == v.rep.Anchor && v.rep.AnchorLine == 0 {
			v.rep.AnchorLine, v.rep.AnchorSeq = line, rec.Seq
		}
		if keep != nil {
			keep(rec)
		}
	}
}

// Follower verifies a log as it grows, for a pane that shows it after every action: each
// Read verifies only the lines appended since the last one, after checking that the file is
// the same file, no shorter, and that the last line it verified still hashes to the chain's
// head; anything else (or Read(true)) verifies the whole file again. Lines before the last
// verified one are not re-read by an incremental Read: an edit there shows at the next full
// one (the pane's verify key, a restart, vigil audit verify).
type Follower struct {
	mu   sync.Mutex
	path string
	file os.FileInfo
	v    verifier
	recs []Record
}

// NewFollower returns a follower of the log at path.
func NewFollower(path string) *Follower { return &Follower{path: path} }

// Path is the log's path.
func (fl *Follower) Path() string { return fl.path }

// Read verifies what was appended since the last Read (everything when full, or when the
// file is not the one read before) and returns the report of the whole log and its records.
// Incremental says whether only the appended lines were read. A missing file is ErrNoLog.
func (fl *Follower) Read(full bool) (rep Report, recs []Record, incremental bool, err error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	f, err := openNoFollow(fl.path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		fl.file = nil
		return Report{}, nil, false, fmt.Errorf("%w at %s: nothing to verify (vigil writes it on the first guarded action)", ErrNoLog, fl.path)
	}
	if err != nil {
		return Report{}, nil, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Report{}, nil, false, err
	}
	incremental = !full && fl.file != nil && os.SameFile(fl.file, st) && fl.v.rep.Broken == nil && st.Size() >= fl.v.end && fl.stillEnds(f)
	if !incremental {
		fl.v, fl.recs = verifier{}, nil
	}
	fl.file = st
	if _, err = f.Seek(fl.v.end, io.SeekStart); err != nil {
		return Report{}, nil, false, err
	}
	fl.v.rep.IncompleteTail = 0
	err = fl.v.read(bufio.NewReaderSize(f, 1<<16), func(r Record) { fl.recs = append(fl.recs, r) })
	rep, recs = fl.v.rep, fl.recs
	rep.Repairs = slices.Clone(rep.Repairs)
	return rep, slices.Clip(recs), incremental, err
}

// stillEnds says whether the last line verified is still where it was, unchanged.
func (fl *Follower) stillEnds(f *os.File) bool {
	if fl.v.lines == 0 {
		return fl.v.end == 0
	}
	b := make([]byte, fl.v.lastLen+1)
	if _, err := f.ReadAt(b, fl.v.end-int64(len(b))); err != nil {
		return false
	}
	return b[len(b)-1] == '\n' && lineHash(b[:len(b)-1]) == fl.v.prevSum
}

// ReadFile returns the complete records of the log at path, in order, without verifying them;
// none when there is no log.
func ReadFile(path string) ([]Record, error) {
	f, err := openForReading(path)
	if f == nil || err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	br := bufio.NewReaderSize(f, 1<<16)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return out, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		out = append(out, rec)
	}
}

// ReadRaw returns the bytes of the log at path as they are, nil when there is no log; like
// every reader here it follows no symbolic link.
func ReadRaw(path string) ([]byte, error) {
	f, err := openForReading(path)
	if f == nil || err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// openForReading opens the log at path read-only without following a symbolic link; nil and
// no error when there is no log.
func openForReading(path string) (*os.File, error) {
	f, err := openNoFollow(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return f, err
}
