package memo

import (
	"reflect"
)

// SizeOf estimates the bytes v holds on the heap: its own size plus everything it points to, once per pointer
// (strings, slices at their capacity, maps with their buckets, structs, interfaces, unexported fields included).
// It is what Get's loaders report as their values' sizes, so the byte budget counts a parsed RSA key at what
// the key really costs (its big numbers and precomputed values). Memory shared with others is counted as if
// it were v's own, so an estimate errs on the high side.
func SizeOf(v any) int {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return 0
	}
	s := sizer{seen: map[uintptr]bool{}}
	return int(rv.Type().Size()) + s.beyond(rv)
}

type sizer struct {
	seen map[uintptr]bool
}

// first reports whether p has not been counted yet, and marks it counted.
func (s *sizer) first(p uintptr) bool {
	if p == 0 || s.seen[p] {
		return false
	}
	s.seen[p] = true
	return true
}

// mapSlotOverhead approximates a map's table per element: slots for growth (load factor) and control bytes.
const mapSlotOverhead = 1.4

// beyond returns the bytes v refers to, outside its own inline size.
func (s *sizer) beyond(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || !s.first(v.Pointer()) {
			return 0
		}
		e := v.Elem()
		return int(e.Type().Size()) + s.beyond(e)
	case reflect.Interface:
		if v.IsNil() {
			return 0
		}
		e := v.Elem()
		switch e.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
			return s.beyond(e) // stored in the interface word itself
		}
		return int(e.Type().Size()) + s.beyond(e) // boxed copy
	case reflect.String:
		return v.Len()
	case reflect.Slice:
		if v.IsNil() || !s.first(v.Pointer()) {
			return 0
		}
		n := v.Cap() * int(v.Type().Elem().Size())
		if hasPointers(v.Type().Elem()) {
			for i := range v.Len() {
				n += s.beyond(v.Index(i))
			}
		}
		return n
	case reflect.Array:
		n := 0
		if hasPointers(v.Type().Elem()) {
			for i := range v.Len() {
				n += s.beyond(v.Index(i))
			}
		}
		return n
	case reflect.Struct:
		n := 0
		for i := range v.NumField() {
			if hasPointers(v.Type().Field(i).Type) {
				n += s.beyond(v.Field(i))
			}
		}
		return n
	case reflect.Map:
		if v.IsNil() || !s.first(v.Pointer()) {
			return 0
		}
		t := v.Type()
		n := 48 + int(float64(v.Len())*float64(t.Key().Size()+t.Elem().Size()+1)*mapSlotOverhead)
		if hasPointers(t.Key()) || hasPointers(t.Elem()) {
			it := v.MapRange()
			for it.Next() {
				n += s.beyond(it.Key()) + s.beyond(it.Value())
			}
		}
		return n
	}
	return 0 // numbers, booleans; channels and functions are not data a cache keeps
}

// hasPointers reports whether values of t may refer to memory outside themselves.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true
}
