package actors

import (
	"regexp"

	"github.com/switchboard-chat/switchboard/messages"
)

// The directory's site-wide commands: languages and settings. No running
// actor keeps a copy of them, so none is told.

var languageCode = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)

func (d *directory) putLanguage(x *messages.Language) (*change, *messages.Error) {
	if !languageCode.MatchString(x.GetCode()) {
		return nil, refuse("code", codeInvalid, "language code must look like en or pt-BR")
	}
	if x.GetName() == "" {
		x.Name = x.GetCode()
	}
	d.langs[x.GetCode()] = x
	return &change{write: func(done func(error)) { d.b.store.PutLanguage(x, done) }}, nil
}

func (d *directory) deleteLanguage(code string) (*change, *messages.Error) {
	if d.langs[code] == nil {
		return nil, refuse("", codeNotFound, "no language %q", code)
	}
	delete(d.langs, code)
	return &change{write: func(done func(error)) { d.b.store.DeleteLanguage(code, done) }}, nil
}

func (d *directory) putSettings(x *messages.Settings) (*change, *messages.Error) {
	if bad := invalidOrigin(x.GetWidgetOrigins()); bad != "" {
		return nil, refuse("widget_origins", codeInvalid, "widget_origins: %q is not an origin like https://shop.example.com or http://localhost:8081 (at most 64)", bad)
	}
	return &change{write: func(done func(error)) { d.b.store.PutSettings(x, done) }}, nil
}
