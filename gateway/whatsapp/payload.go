package whatsapp

// Notification is the body Meta posts to a WhatsApp channel's webhook
// (object "whatsapp_business_account"): entries of changes, each with a
// value holding messages from customers, or statuses of messages sent.
type Notification struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

type Entry struct {
	ID      string   `json:"id"`
	Changes []Change `json:"changes"`
}

type Change struct {
	Field string `json:"field"`
	Value Value  `json:"value"`
}

type Value struct {
	MessagingProduct string    `json:"messaging_product"`
	Metadata         Metadata  `json:"metadata"`
	Contacts         []Contact `json:"contacts"`
	Messages         []Message `json:"messages"`
	Statuses         []Status  `json:"statuses"`
}

type Metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

type Contact struct {
	WaID    string `json:"wa_id"`
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
}

// Message is a customer's message. Type says which of the fields holds
// it: text, or one of the media kinds (image, document, audio, video,
// sticker), each with a media id.
type Message struct {
	From      string `json:"from"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Text      *struct {
		Body string `json:"body"`
	} `json:"text,omitempty"`
	Image    *Media `json:"image,omitempty"`
	Document *Media `json:"document,omitempty"`
	Audio    *Media `json:"audio,omitempty"`
	Video    *Media `json:"video,omitempty"`
	Sticker  *Media `json:"sticker,omitempty"`
}

// Media is a media message's part: the media id to fetch it by.
type Media struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

// MediaOf returns a media message's media, or nil for other types.
func (m *Message) MediaOf() *Media {
	switch m.Type {
	case "image":
		return m.Image
	case "document":
		return m.Document
	case "audio":
		return m.Audio
	case "video":
		return m.Video
	case "sticker":
		return m.Sticker
	}
	return nil
}

// Status is what became of a message the business sent: "sent",
// "delivered", "read" or "failed" (with errors).
type Status struct {
	ID          string        `json:"id"`
	Status      string        `json:"status"`
	Timestamp   string        `json:"timestamp"`
	RecipientID string        `json:"recipient_id"`
	Errors      []StatusError `json:"errors"`
}

type StatusError struct {
	Code    int    `json:"code"`
	Title   string `json:"title"`
	Message string `json:"message"`
}
