// Package whatsapp speaks the WhatsApp Business Cloud API (Meta's Graph
// API) for Switchboard's WhatsApp channels: the webhook's notification
// payload (Notification and the types under it), the client that sends a
// chat's replies (Client.Send, the actors' ChannelSender: POST
// {graph_base_url}/{phone_number_id}/messages with the channel's access
// token) and fetches an inbound message's media (Client.FetchMedia).
//
// A staff text message goes out as a "text" message, a template message
// as a "template" message with its parameters as the body's text
// parameters, and a file as media: uploaded first (POST
// /{phone_number_id}/media) and sent by its media id as an "image" (PNG,
// JPEG) or a "document" (any other type, with its file name), since the
// broker's own file links need a chat participant's credentials.
//
// The Client is safe from any goroutine; Send runs each call in its own.
package whatsapp
