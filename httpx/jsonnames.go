package httpx

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
)

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// namesMismatch walks raw, a JSON text the decoder accepted into a value of type t, and returns a *BodyError for
// the first object member whose name is given twice in its object (at any depth, free-form maps too: a filter in
// front of the API and the API would otherwise read different values), or whose object decodes into a struct
// that has no field of exactly that name (encoding/json would match it case-insensitively). nil when there is
// none.
func namesMismatch(raw []byte, t reflect.Type) *BodyError {
	type frame struct {
		jsonFrame
		t    reflect.Type            // the Go type this object or array decodes into; nil for any
		seen map[string]bool         // objects: names given so far
		f    map[string]reflect.Type // structs: exact field names and their types
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var stack []frame
	path := func() []jsonFrame {
		out := make([]jsonFrame, len(stack))
		for i, f := range stack {
			out[i] = f.jsonFrame
		}
		return out
	}
	// next is the type of the value about to be read.
	next := t
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		n := len(stack)
		if n > 0 && stack[n-1].object && stack[n-1].wantKey {
			if tok == json.Delim('}') {
				stack = stack[:n-1]
				js := path()
				valueDone(js)
				for i := range js {
					stack[i].jsonFrame = js[i]
				}
				if m := len(stack); m > 0 && !stack[m-1].object {
					next = nil
					if stack[m-1].t != nil {
						next = stack[m-1].t.Elem()
					}
				}
				continue
			}
			key, _ := tok.(string)
			top := &stack[n-1]
			where := func() string {
				if n > 1 {
					return jsonPath(path()[:n-1]) + ": "
				}
				return ""
			}
			if top.seen[key] {
				return bodyErrorf("%sthe field %s is given more than once.", where(), quoteName(key))
			}
			top.seen[key] = true
			top.key, top.wantKey = key, false
			next = nil
			if top.t != nil {
				switch top.t.Kind() {
				case reflect.Struct:
					ft, ok := top.f[key]
					if !ok {
						return bodyErrorf("%sUnknown field %s.", where(), quoteName(key))
					}
					next = ft
				case reflect.Map:
					next = top.t.Elem()
				}
			}
			continue
		}
		vt := plain(next)
		switch tok {
		case json.Delim('{'):
			f := frame{jsonFrame: jsonFrame{object: true, wantKey: true}, t: vt, seen: map[string]bool{}}
			if vt != nil && vt.Kind() == reflect.Struct {
				f.f = fieldsOf(vt)
			} else if vt != nil && vt.Kind() != reflect.Map {
				f.t = nil
			}
			stack = append(stack, f)
			continue
		case json.Delim('['):
			f := frame{t: vt}
			if vt != nil && vt.Kind() != reflect.Slice && vt.Kind() != reflect.Array {
				f.t = nil
			}
			stack = append(stack, f)
			next = nil
			if f.t != nil {
				next = f.t.Elem()
			}
			continue
		case json.Delim(']'):
			stack = stack[:n-1]
		}
		js := path()
		valueDone(js)
		for i := range js {
			stack[i].jsonFrame = js[i]
		}
		// The next value in an array has the array's element type.
		if m := len(stack); m > 0 && !stack[m-1].object {
			next = nil
			if stack[m-1].t != nil {
				next = stack[m-1].t.Elem()
			}
		}
	}
}

// plain dereferences pointers and returns nil for types that decode themselves or that are interfaces: their
// members are not checked against Go fields.
func plain(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface {
		return nil
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return nil
	}
	return t
}

// fieldsOf returns the exact JSON names of a struct's fields, as encoding/json names them (the tag's name, else the
// Go name; embedded structs without a tag name flattened), with their types.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for k, v := range fieldsOf(et) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out[name] = sf.Type
	}
	return out
}
