package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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
	rep := Report{Anchor: strings.ToLower(strings.TrimSpace(head))}
	br := bufio.NewReaderSize(r, 1<<16)
	var prevSum string
	var prevSeq int64
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err == io.EOF {
			rep.IncompleteTail = len(b)
			return rep, nil
		}
		if err != nil {
			return rep, err
		}
		b = bytes.TrimSuffix(b, []byte{'\n'})
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			rep.Broken = &BrokenRecord{Line: line, Reason: fmt.Sprintf("not a JSON record (%v): the line was edited or damaged", err)}
			return rep, nil
		}
		switch {
		case rec.Prev != prevSum && line == 1:
			rep.Broken = &BrokenRecord{Line: line, Seq: rec.Seq, Reason: "the first line points at a previous record: records before it were deleted"}
		case rec.Prev != prevSum:
			rep.Broken = &BrokenRecord{Line: line, Seq: rec.Seq, Reason: fmt.Sprintf(
				"its prev hash does not match line %d: line %d was edited, or records between them were deleted or reordered", line-1, line-1)}
		case rec.Seq > prevSeq+1 && rec.Repaired != "":
			// A cut fragment's number is skipped, never reused; the record says so.
		case rec.Seq != prevSeq+1:
			rep.Broken = &BrokenRecord{Line: line, Seq: rec.Seq, Reason: fmt.Sprintf("sequence number %d follows %d: the record itself was edited", rec.Seq, prevSeq)}
		}
		if rep.Broken != nil {
			return rep, nil
		}
		if rec.Repaired != "" {
			rep.Repairs = append(rep.Repairs, BrokenRecord{Line: line, Seq: rec.Seq, Reason: rec.Repaired})
		}
		prevSum, prevSeq = lineHash(b), rec.Seq
		rep.Records++
		rep.Head, rep.HeadSeq = prevSum, rec.Seq
		if rep.Anchor != "" && prevSum == rep.Anchor && rep.AnchorLine == 0 {
			rep.AnchorLine, rep.AnchorSeq = line, rec.Seq
		}
	}
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
