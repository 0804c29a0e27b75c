package memo

import (
	"crypto/elliptic"
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

// curveType is elliptic.Curve: a curve is a process-wide singleton that every key of it shares.
var curveType = reflect.TypeFor[elliptic.Curve]()

// alloc rounds a heap allocation of n bytes up the way the allocator's size classes do, roughly.
func alloc(n int) int {
	switch {
	case n <= 0:
		return 0
	case n <= 8:
		return 8
	case n <= 256:
		return (n + 15) &^ 15
	case n <= 1024:
		return (n + 63) &^ 63
	}
	return (n + 255) &^ 255
}

// mapBytes estimates a map of n entries of slot bytes each: a group of eight slots with their control word for a
// small map; for a larger one, a table of groups sized for a load of at most 7/8, in powers of two.
func mapBytes(n int, slot int) int {
	const header, table, group = 48, 48, 8
	if n <= 8 {
		return header + alloc(group+8*slot)
	}
	capacity := 16
	for capacity*7/8 < n {
		capacity *= 2
	}
	return header + table + alloc(capacity/8*(group+8*slot))
}

// beyond returns the bytes v refers to, outside its own inline size.
func (s *sizer) beyond(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || !s.first(v.Pointer()) {
			return 0
		}
		e := v.Elem()
		return alloc(int(e.Type().Size())) + s.beyond(e)
	case reflect.Interface:
		if v.IsNil() || v.Type() == curveType {
			return 0
		}
		e := v.Elem()
		switch e.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
			return s.beyond(e) // stored in the interface word itself
		}
		return alloc(int(e.Type().Size())) + s.beyond(e) // boxed copy
	case reflect.String:
		return alloc(v.Len())
	case reflect.Slice:
		if v.IsNil() || !s.first(v.Pointer()) {
			return 0
		}
		n := alloc(v.Cap() * int(v.Type().Elem().Size()))
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
		n := mapBytes(v.Len(), int(t.Key().Size()+t.Elem().Size()))
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
