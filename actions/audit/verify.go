package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Report is what Verify found.
type Report struct {
	// Records is the number of complete records that verified.
	Records int
	// Head is the hex SHA-256 of the last verified line: anchor it elsewhere to detect a
	// later truncation or replacement of the newest record.
	Head string
	// IncompleteTail is the length of an incomplete last line (a writer killed mid-write),
	// tolerated and not counted.
	IncompleteTail int
	// Broken is the first record that does not verify, nil when the chain is whole.
	Broken *BrokenRecord
}

// OK reports whether the whole chain verified.
func (r Report) OK() bool { return r.Broken == nil }

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

// VerifyFile verifies the log at path. A missing file is an empty, valid log.
func VerifyFile(path string) (Report, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return Report{}, nil
	}
	if err != nil {
		return Report{}, err
	}
	defer f.Close()
	return Verify(f)
}

// Verify reads a whole log and checks, for each complete line, that it is a record, that its
// Prev is the SHA-256 of the line before (empty for the first) and that Seq counts up by one.
// An incomplete last line (no newline) is tolerated; anything else stops at the first
// broken record.
func Verify(r io.Reader) (Report, error) {
	var rep Report
	br := bufio.NewReaderSize(r, 1<<16)
	var prevSum string
	var prevSeq int64
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err == io.EOF {
			if len(b) > 0 {
				rep.IncompleteTail = len(b)
			}
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
		case rec.Seq != prevSeq+1:
			rep.Broken = &BrokenRecord{Line: line, Seq: rec.Seq, Reason: fmt.Sprintf("sequence number %d follows %d: the record itself was edited", rec.Seq, prevSeq)}
		}
		if rep.Broken != nil {
			return rep, nil
		}
		sum := sha256.Sum256(b)
		prevSum, prevSeq = hex.EncodeToString(sum[:]), rec.Seq
		rep.Records++
		rep.Head = prevSum
	}
}

// ReadFile returns the complete records of the log at path, in order, without verifying them.
func ReadFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
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
