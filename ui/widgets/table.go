package widgets

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/ui/theme"
)

// Column is one table column. Width is the minimum; Flex columns share the
// width left over. Cell is called for visible rows only.
type Column[T any] struct {
	Title string
	Width int
	Right bool
	Flex  bool
	// MinTable hides the column when the table is narrower than this.
	MinTable int
	// MaxWidth caps a Flex column's growth (0: no cap); what it cannot
	// take goes to the other Flex columns.
	MaxWidth int
	Cell     func(T) string
	// Compare orders rows when the user sorts by this column; nil means
	// the column is not sortable.
	Compare func(a, b T) int
	// Descending says Compare puts the highest value first (restarts,
	// CPU, the worst health): the header's arrow tells the direction of
	// the values, ↑ lowest first, ↓ highest first, whatever the column.
	Descending bool
}

// Table is a scrolling, sortable, filterable list of rows that draws only
// the rows on screen, so 10,000 rows cost what 30 do.
type Table[T any] struct {
	// Columns are the columns in order.
	Columns []Column[T]
	// Text returns what the fuzzy filter matches a row against.
	Text func(T) string
	// Style returns a row's style (its health); nil is plain.
	Style func(T) lipgloss.Style
	// Keep returns an extra predicate (a namespace filter); nil keeps all.
	Keep func(T) bool
	// Empty is shown when there are no rows.
	Empty string

	styles        theme.Theme
	rows          []T
	content       []int // per column, the widest cell over rows
	view          []int // indexes into rows: filtered, then sorted
	filter        string
	sortCol       int // -1: the input order
	reverse       bool
	cursor        int
	offset        int
	width, height int
}

// NewTable returns an empty table drawn with st.
func NewTable[T any](st theme.Theme, cols []Column[T]) *Table[T] {
	return &Table[T]{Columns: cols, styles: st, sortCol: -1}
}

// SetRows replaces the rows, keeping the cursor on the row with the same
// id when there is one.
func (t *Table[T]) SetRows(rows []T, id func(T) string) {
	var sel string
	if r, ok := t.Selected(); ok && id != nil {
		sel = id(r)
	}
	t.rows = rows
	t.measure()
	t.refresh()
	if sel != "" {
		for i, ri := range t.view {
			if id(t.rows[ri]) == sel {
				t.cursor = i
				break
			}
		}
	}
	t.clamp()
}

// Rows returns every row, before filtering.
func (t *Table[T]) Rows() []T { return t.rows }

// Len returns the number of rows after filtering.
func (t *Table[T]) Len() int { return len(t.view) }

// SetFilter sets the fuzzy filter text.
func (t *Table[T]) SetFilter(f string) {
	t.filter = f
	t.refresh()
	t.cursor = 0
	t.clamp()
}

// Filter returns the filter text.
func (t *Table[T]) Filter() string { return t.filter }

// Refresh re-applies the filter, Keep and the sort (after Keep changed).
func (t *Table[T]) Refresh() {
	t.refresh()
	t.clamp()
}

// SortBy sorts by column i (-1: input order), reversed when rev.
func (t *Table[T]) SortBy(i int, rev bool) {
	t.sortCol, t.reverse = i, rev
	t.refresh()
	t.clamp()
}

// Sort returns the sort column (-1 for input order) and direction.
func (t *Table[T]) Sort() (int, bool) { return t.sortCol, t.reverse }

// NextSort moves the sort to the next sortable column, then back to the
// input order.
func (t *Table[T]) NextSort() {
	for i := t.sortCol + 1; i < len(t.Columns); i++ {
		if t.Columns[i].Compare != nil {
			t.SortBy(i, false)
			return
		}
	}
	t.SortBy(-1, false)
}

// SortName names the current sort, for a status line: the column and
// the header's arrow.
func (t *Table[T]) SortName() string {
	if t.sortCol < 0 {
		return "default"
	}
	return strings.ToLower(t.Columns[t.sortCol].Title) + " " + t.arrow()
}

// arrow is the sorted column's direction: ↑ lowest value first, ↓ highest.
func (t *Table[T]) arrow() string {
	if t.Columns[t.sortCol].Descending != t.reverse {
		return "↓"
	}
	return "↑"
}

// measure records each column's widest cell over every row (not only the
// filtered ones, so widths hold still while the user types a filter).
func (t *Table[T]) measure() {
	t.content = make([]int, len(t.Columns))
	for i, c := range t.Columns {
		for _, r := range t.rows {
			t.content[i] = max(t.content[i], ansi.StringWidth(c.Cell(r)))
		}
	}
}

func (t *Table[T]) refresh() {
	t.view = t.view[:0]
	q := strings.ToLower(t.filter)
	// Substring matches when there are any, else fuzzy (subsequence)
	// ones: "pay" should not bring up api-gateway next to payment-service.
	for _, match := range []func(q, s string) bool{strings.Contains, Fuzzy} {
		for i, r := range t.rows {
			if t.Keep != nil && !t.Keep(r) {
				continue
			}
			if q != "" && (t.Text == nil || !match(strings.ToLower(t.Text(r)), q)) {
				continue
			}
			t.view = append(t.view, i)
		}
		if len(t.view) > 0 || q == "" {
			break
		}
	}
	if t.sortCol >= 0 && t.sortCol < len(t.Columns) && t.Columns[t.sortCol].Compare != nil {
		cmp := t.Columns[t.sortCol].Compare
		slices.SortStableFunc(t.view, func(a, b int) int {
			c := cmp(t.rows[a], t.rows[b])
			if t.reverse {
				return -c
			}
			return c
		})
	} else if t.reverse {
		slices.Reverse(t.view)
	}
}

// Fuzzy reports whether every rune of q appears in s in order.
func Fuzzy(s, q string) bool {
	for _, r := range q {
		i := strings.IndexRune(s, r)
		if i < 0 {
			return false
		}
		s = s[i+len(string(r)):]
	}
	return true
}

// Selected returns the row under the cursor.
func (t *Table[T]) Selected() (T, bool) {
	if t.cursor < 0 || t.cursor >= len(t.view) {
		var zero T
		return zero, false
	}
	return t.rows[t.view[t.cursor]], true
}

// Cursor returns the cursor's index among the visible (filtered) rows.
func (t *Table[T]) Cursor() int { return t.cursor }

// SetSize sets the table's size; one line is the column header.
func (t *Table[T]) SetSize(w, h int) {
	t.width, t.height = w, h
	t.clamp()
}

func (t *Table[T]) page() int { return max(1, t.height-1) }

// Move handles the navigation keys; it reports whether k was one.
func (t *Table[T]) Move(k tea.KeyPressMsg, keys NavKeys) bool {
	to, ok := keys.Step(k, t.cursor, t.page(), len(t.view)-1)
	if !ok {
		return false
	}
	t.cursor = to
	t.clamp()
	return true
}

// NavKeys are the bindings Move and Pager.Move understand.
type NavKeys struct{ Up, Down, PageUp, PageDown, Top, Bottom key.Binding }

// Step is where navigation key k moves position at: one up or down, a page
// of page rows, or to 0 or last. The result is not clamped; ok is false when
// k is not a navigation key.
func (keys NavKeys) Step(k tea.KeyPressMsg, at, page, last int) (to int, ok bool) {
	switch {
	case key.Matches(k, keys.Up):
		return at - 1, true
	case key.Matches(k, keys.Down):
		return at + 1, true
	case key.Matches(k, keys.PageUp):
		return at - page, true
	case key.Matches(k, keys.PageDown):
		return at + page, true
	case key.Matches(k, keys.Top):
		return 0, true
	case key.Matches(k, keys.Bottom):
		return last, true
	}
	return at, false
}

func (t *Table[T]) clamp() {
	t.cursor = max(0, min(t.cursor, len(t.view)-1))
	page := t.page()
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+page {
		t.offset = t.cursor - page + 1
	}
	t.offset = max(0, min(t.offset, len(t.view)-page))
}

// layout returns the visible columns with their widths for the table
// width: each as wide as its content when it fits (never narrower than its
// Width, its title, or, sorted, its title and arrow), the space left
// to the Flex columns; when it does not fit, the columns closest to whole
// are made whole first.
func (t *Table[T]) layout() ([]Column[T], []int) {
	var cols []Column[T]
	var mins, natural, maxw []int
	var flex []bool
	for i, c := range t.Columns {
		if c.MinTable != 0 && t.width < c.MinTable {
			continue
		}
		lo := max(c.Width, ansi.StringWidth(c.Title))
		if i == t.sortCol {
			lo = max(c.Width, ansi.StringWidth(c.Title)+1) // the arrow never cuts the title
		}
		nat := lo
		if i < len(t.content) {
			nat = max(lo, t.content[i])
		}
		cols = append(cols, c)
		mins, natural, maxw, flex = append(mins, lo), append(natural, nat), append(maxw, c.MaxWidth), append(flex, c.Flex)
	}
	// A column cut at the table's edge shows part of a value ("    2" of "    21m"): while
	// the columns do not fit at their least, the rightmost optional one (MinTable) goes.
	for need(mins) > t.width {
		i := len(cols) - 1
		for i >= 0 && cols[i].MinTable == 0 {
			i--
		}
		if i < 0 {
			break
		}
		cols, mins, natural = slices.Delete(cols, i, i+1), slices.Delete(mins, i, i+1), slices.Delete(natural, i, i+1)
		maxw, flex = slices.Delete(maxw, i, i+1), slices.Delete(flex, i, i+1)
	}
	return cols, Widths(t.width, mins, natural, maxw, flex)
}

// need is how many cells columns of widths take, with a space between each two.
func need(widths []int) int {
	n := max(0, len(widths)-1)
	for _, w := range widths {
		n += w
	}
	return n
}

// View draws the header and the visible rows.
func (t *Table[T]) View() string {
	if t.width <= 0 || t.height <= 0 {
		return ""
	}
	st := t.styles
	cols, widths := t.layout()
	var b strings.Builder
	head := make([]string, len(cols))
	for i, c := range cols {
		title := c.Title
		if t.sortCol >= 0 && t.Columns[t.sortCol].Title == c.Title {
			title += t.arrow()
		}
		head[i] = Pad(title, widths[i], c.Right)
	}
	b.WriteString(st.TableHeader.Render(ansi.Truncate(strings.Join(head, " "), t.width, "")))
	if len(t.view) == 0 {
		msg := t.Empty
		if t.filter != "" {
			msg = "nothing matches /" + t.filter
		}
		b.WriteString("\n" + st.Muted.Render(Fit(msg, t.width)))
		return b.String()
	}
	end := min(len(t.view), t.offset+t.page())
	cells := make([]string, len(cols))
	for i := t.offset; i < end; i++ {
		r := t.rows[t.view[i]]
		for j, c := range cols {
			cells[j] = Pad(c.Cell(r), widths[j], c.Right)
		}
		line := ansi.Truncate(strings.Join(cells, " "), t.width, "")
		b.WriteString("\n")
		switch {
		case i == t.cursor:
			b.WriteString(st.Selected.Render(Pad(line, t.width, false)))
		case t.Style != nil:
			b.WriteString(t.Style(r).Render(line))
		default:
			b.WriteString(line)
		}
	}
	return b.String()
}
