package actions

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestOnlyThePipelineMintsExecTokens proves that no code path reaches an action's execute
// step except Pipeline.Execute/Start: an execToken is only ever constructed, and
// steps.execute only ever called, in pipeline.go.
func TestOnlyThePipelineMintsExecTokens(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "execToken" && f != "pipeline.go" {
					t.Errorf("%s: an execToken is minted outside pipeline.go", fset.Position(n.Pos()))
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "execute" && f != "pipeline.go" {
					t.Errorf("%s: an action's execute step is called outside pipeline.go", fset.Position(n.Pos()))
				}
			}
			return true
		})
	}
}

// TestActionExposesNoWayToRun checks the exported surface: an Action can be inspected and
// asked why it is disabled, never run.
func TestActionExposesNoWayToRun(t *testing.T) {
	typ := reflect.TypeOf(&Action{})
	for i := 0; i < typ.NumMethod(); i++ {
		switch m := typ.Method(i).Name; m {
		case "Disabled", "PermissionFor":
		default:
			t.Errorf("Action has exported method %s: only Pipeline may run actions", m)
		}
	}
	st := reflect.TypeOf(Action{})
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if f.IsExported() && f.Type.Kind() == reflect.Func {
			t.Errorf("Action has exported func field %s", f.Name)
		}
	}
}

// TestOutsizedScale: a scale is out of all proportion when it asks for more than ten times
// the pods and more than 50 more; the edges on either side.
func TestOutsizedScale(t *testing.T) {
	for _, tc := range []struct {
		cur, want int32
		outsized  bool
	}{
		{1, 51, false}, {1, 52, true}, {2, 20, false}, {2, 1000, true}, {0, 50, false}, {0, 51, true},
		{10, 100, false}, {10, 101, true}, {100, 1000, false}, {100, 1001, true}, {5, 1, false}, {3, 0, false},
		{1, 2147483647, true},
	} {
		if got := outsizedScale(tc.cur, tc.want) != ""; got != tc.outsized {
			t.Errorf("outsizedScale(%d, %d) = %v, want %v", tc.cur, tc.want, got, tc.outsized)
		}
	}
}
