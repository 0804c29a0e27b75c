// Package static holds the stylesheet and script of Authio's hosted pages,
// embedded so the binary serves them without files on disk. The server mounts
// FS under /static/; the pages in package templates link to it.
package static

import (
	"embed"
	"io/fs"
)

//go:embed *.css *.js
var files embed.FS

// FS is the embedded set of assets (authio.css, authio.js). A development
// build may serve os.DirFS("static") instead, to edit them without rebuilding.
var FS fs.FS = files
