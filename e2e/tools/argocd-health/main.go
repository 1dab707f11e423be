// Command argocd-health runs an Argo CD resource health script in gopher-lua, the Lua VM that
// Argo CD embeds, the way Argo CD runs it: the live object as the global `obj`, a VM with only
// the libraries Argo CD opens, and a table {status, message} as the result. The object is read
// as JSON on stdin; the result is written as {"status": "...", "message": "..."} on stdout.
//
//	argocd-health manifests/argocd/health.lua < workerpool.json
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
)

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// Argo CD's health statuses; anything else returned by a script is an error there too.
var knownStatuses = map[string]bool{"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: argocd-health <health.lua> < object.json")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "argocd-health:", err)
		os.Exit(1)
	}
}

func run(scriptPath string, in io.Reader, out io.Writer) error {
	script, err := os.ReadFile(scriptPath)
	if err != nil {
		return err
	}
	var object map[string]any
	if err := json.NewDecoder(in).Decode(&object); err != nil {
		return fmt.Errorf("stdin is not a JSON object: %w", err)
	}
	result, err := evaluate(string(script), object)
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(result)
}

// evaluate mirrors Argo CD's util/lua VM: no open libraries but the safe ones, a time limit,
// and the script's return value read from the top of the stack.
func evaluate(script string, object map[string]any) (verdict, error) {
	state := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer state.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
	} {
		state.Push(state.NewFunction(lib.open))
		state.Push(lua.LString(lib.name))
		state.Call(1, 0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	state.SetContext(ctx)
	state.SetGlobal("obj", toLua(state, object))
	if err := state.DoString(script); err != nil {
		return verdict{}, err
	}
	table, ok := state.Get(-1).(*lua.LTable)
	if !ok {
		return verdict{}, fmt.Errorf("the script returned %s, not a table", state.Get(-1).Type())
	}
	result := verdict{Status: lua.LVAsString(table.RawGetString("status")), Message: lua.LVAsString(table.RawGetString("message"))}
	if !knownStatuses[result.Status] {
		return verdict{}, fmt.Errorf("the script returned an invalid health status %q", result.Status)
	}
	return result, nil
}

// toLua converts decoded JSON as Argo CD does (layeh.com/gopher-json's DecodeValue): objects
// and arrays become tables (arrays 1-based), JSON null becomes nil.
func toLua(state *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		table := state.NewTable()
		for _, item := range v {
			table.Append(toLua(state, item))
		}
		return table
	case map[string]any:
		table := state.NewTable()
		for key, item := range v {
			table.RawSetString(key, toLua(state, item))
		}
		return table
	default:
		panic(fmt.Sprintf("unexpected JSON value %T", value))
	}
}
