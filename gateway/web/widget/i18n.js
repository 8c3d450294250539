// The widget's texts in English, Swedish and Spanish. text(lang) returns
// the dictionary of a language code ("sv", "sv-SE", "es-MX"), English when
// the language is not one of these. Entries are strings or functions of
// their values; every value is shown as text, never as markup.

const en = {
  title: 'Chat with us',
  greeting: 'Hi! Ask us anything: we usually answer within a few minutes.',
  open: 'Open the chat',
  minimize: 'Minimize the chat',
  name: 'Your name',
  email: 'Email (optional)',
  department: 'Department',
  language: 'Language',
  message: 'Your question',
  start: 'Start the chat',
  starting: 'Starting…',
  opensAt: (when) => `opens ${when}`,
  closedUntil: (name, when) => `${name} is closed now; it opens ${when}.`,
  noneOpen: 'Nobody can take chats right now. Please try again later.',
  connecting: 'Connecting…',
  reconnecting: 'Connection lost; reconnecting…',
  position: (p, n) => `You are number ${p} in line (${n} waiting).`,
  waitAbout: (d) => `Estimated wait: about ${d}.`,
  waitNow: 'An agent will be with you in a moment.',
  waitUnknown: 'All our agents are busy; please stay, we will answer soon.',
  minutes: (m) => (m <= 1 ? 'a minute' : `${m} minutes`),
  talkingWith: (name) => `You are chatting with ${name}`,
  joined: (name) => `${name} joined the chat.`,
  left: (name) => `${name} left the chat.`,
  transferred: (dept) => `Your chat is being transferred${dept ? ` to ${dept}` : ''}. Please wait.`,
  requeued: 'Your agent was disconnected; you keep your place in line.',
  renamed: (name) => `Your agent is now called ${name}.`,
  typing: (name) => `${name} is typing…`,
  you: 'You',
  agent: 'Agent',
  write: 'Write a message',
  send: 'Send',
  end: 'End the chat',
  confirmEnd: 'End this chat?',
  ended: 'The chat has ended.',
  endedBy: (name) => `${name} ended the chat.`,
  newChat: 'Start a new chat',
  sending: 'sending',
  failed: 'not sent',
  messages: 'Messages',
  error: 'Something went wrong; please try again.',
  refused: {
    UNKNOWN_DEPARTMENT: 'That department does not exist.',
    DEPARTMENT_CLOSED: 'This department is not taking chats right now.',
    LANGUAGE_NOT_OFFERED: 'Chat in this language is not offered right now.',
    QUEUE_FULL: 'Too many people are waiting right now. Please try again in a few minutes.',
    ALREADY_IN_CHAT: 'You already have a chat open.',
    LIVE_CHAT_OFF: 'Live chat is switched off right now.',
    OUTSIDE_BUSINESS_HOURS: 'This department is closed now.',
    NOBODY_AVAILABLE: 'Nobody in this department can take a chat right now.',
  },
  required: 'Please fill in your name and your question.',
  offlineIntro: 'Nobody can chat right now. Leave us a message and we will answer by email.',
  offlineEmail: 'Your email',
  offlineText: 'Your message',
  offlineSend: 'Send the message',
  offlineSent: 'Thank you: your message is with us, and we will answer by email.',
  offlineRequired: 'Please fill in your name, your email and your message.',
  transcriptTo: 'Email me the transcript',
  transcriptSend: 'Send',
  transcriptSent: (to) => `The transcript is on its way to ${to}.`,
};

const sv = {
  title: 'Chatta med oss',
  greeting: 'Hej! Fråga oss vad du vill: vi svarar oftast inom några minuter.',
  open: 'Öppna chatten',
  minimize: 'Minimera chatten',
  name: 'Ditt namn',
  email: 'E-post (frivillig)',
  department: 'Avdelning',
  language: 'Språk',
  message: 'Din fråga',
  start: 'Starta chatten',
  starting: 'Startar…',
  opensAt: (when) => `öppnar ${when}`,
  closedUntil: (name, when) => `${name} är stängd nu; den öppnar ${when}.`,
  noneOpen: 'Ingen kan ta emot chattar just nu. Försök igen senare.',
  connecting: 'Ansluter…',
  reconnecting: 'Anslutningen bröts; ansluter igen…',
  position: (p, n) => `Du är nummer ${p} i kön (${n} väntar).`,
  waitAbout: (d) => `Beräknad väntetid: cirka ${d}.`,
  waitNow: 'En handläggare är strax hos dig.',
  waitUnknown: 'Alla handläggare är upptagna; stanna kvar, vi svarar snart.',
  minutes: (m) => (m <= 1 ? 'en minut' : `${m} minuter`),
  talkingWith: (name) => `Du chattar med ${name}`,
  joined: (name) => `${name} gick med i chatten.`,
  left: (name) => `${name} lämnade chatten.`,
  transferred: (dept) => `Din chatt flyttas${dept ? ` till ${dept}` : ''}. Vänta en stund.`,
  requeued: 'Din handläggare tappade anslutningen; du behåller din plats i kön.',
  renamed: (name) => `Din handläggare heter nu ${name}.`,
  typing: (name) => `${name} skriver…`,
  you: 'Du',
  agent: 'Handläggare',
  write: 'Skriv ett meddelande',
  send: 'Skicka',
  end: 'Avsluta chatten',
  confirmEnd: 'Avsluta chatten?',
  ended: 'Chatten är avslutad.',
  endedBy: (name) => `${name} avslutade chatten.`,
  newChat: 'Starta en ny chatt',
  sending: 'skickas',
  failed: 'inte skickat',
  messages: 'Meddelanden',
  error: 'Något gick fel; försök igen.',
  refused: {
    UNKNOWN_DEPARTMENT: 'Den avdelningen finns inte.',
    DEPARTMENT_CLOSED: 'Avdelningen tar inte emot chattar just nu.',
    LANGUAGE_NOT_OFFERED: 'Chatt på det här språket erbjuds inte just nu.',
    QUEUE_FULL: 'Många väntar just nu. Försök igen om några minuter.',
    ALREADY_IN_CHAT: 'Du har redan en öppen chatt.',
    LIVE_CHAT_OFF: 'Chatten är avstängd just nu.',
    OUTSIDE_BUSINESS_HOURS: 'Avdelningen är stängd nu.',
    NOBODY_AVAILABLE: 'Ingen på avdelningen kan ta en chatt just nu.',
  },
  required: 'Fyll i ditt namn och din fråga.',
  offlineIntro: 'Ingen kan chatta just nu. Lämna ett meddelande så svarar vi via e-post.',
  offlineEmail: 'Din e-post',
  offlineText: 'Ditt meddelande',
  offlineSend: 'Skicka meddelandet',
  offlineSent: 'Tack: vi har fått ditt meddelande och svarar via e-post.',
  offlineRequired: 'Fyll i ditt namn, din e-post och ditt meddelande.',
  transcriptTo: 'Mejla mig samtalet',
  transcriptSend: 'Skicka',
  transcriptSent: (to) => `Samtalet skickas till ${to}.`,
};

const es = {
  title: 'Chatea con nosotros',
  greeting: '¡Hola! Pregúntanos lo que quieras: solemos responder en pocos minutos.',
  open: 'Abrir el chat',
  minimize: 'Minimizar el chat',
  name: 'Tu nombre',
  email: 'Correo electrónico (opcional)',
  department: 'Departamento',
  language: 'Idioma',
  message: 'Tu pregunta',
  start: 'Empezar el chat',
  starting: 'Empezando…',
  opensAt: (when) => `abre ${when}`,
  closedUntil: (name, when) => `${name} está cerrado ahora; abre ${when}.`,
  noneOpen: 'Nadie puede atender chats ahora. Inténtalo más tarde.',
  connecting: 'Conectando…',
  reconnecting: 'Se perdió la conexión; reconectando…',
  position: (p, n) => `Eres el número ${p} en la cola (${n} esperando).`,
  waitAbout: (d) => `Espera estimada: unos ${d}.`,
  waitNow: 'Un agente te atenderá enseguida.',
  waitUnknown: 'Todos los agentes están ocupados; quédate, te responderemos pronto.',
  minutes: (m) => (m <= 1 ? 'un minuto' : `${m} minutos`),
  talkingWith: (name) => `Estás chateando con ${name}`,
  joined: (name) => `${name} se unió al chat.`,
  left: (name) => `${name} salió del chat.`,
  transferred: (dept) => `Tu chat se está transfiriendo${dept ? ` a ${dept}` : ''}. Espera, por favor.`,
  requeued: 'Tu agente se desconectó; conservas tu lugar en la cola.',
  renamed: (name) => `Tu agente ahora se llama ${name}.`,
  typing: (name) => `${name} está escribiendo…`,
  you: 'Tú',
  agent: 'Agente',
  write: 'Escribe un mensaje',
  send: 'Enviar',
  end: 'Terminar el chat',
  confirmEnd: '¿Terminar este chat?',
  ended: 'El chat ha terminado.',
  endedBy: (name) => `${name} terminó el chat.`,
  newChat: 'Empezar un chat nuevo',
  sending: 'enviando',
  failed: 'no enviado',
  messages: 'Mensajes',
  error: 'Algo salió mal; inténtalo de nuevo.',
  refused: {
    UNKNOWN_DEPARTMENT: 'Ese departamento no existe.',
    DEPARTMENT_CLOSED: 'Este departamento no atiende chats ahora.',
    LANGUAGE_NOT_OFFERED: 'El chat en este idioma no se ofrece ahora.',
    QUEUE_FULL: 'Hay demasiadas personas esperando. Inténtalo en unos minutos.',
    ALREADY_IN_CHAT: 'Ya tienes un chat abierto.',
    LIVE_CHAT_OFF: 'El chat está desactivado ahora.',
    OUTSIDE_BUSINESS_HOURS: 'Este departamento está cerrado ahora.',
    NOBODY_AVAILABLE: 'Nadie en este departamento puede atender un chat ahora.',
  },
  required: 'Escribe tu nombre y tu pregunta.',
  offlineIntro: 'Nadie puede chatear ahora. Déjanos un mensaje y te responderemos por correo.',
  offlineEmail: 'Tu correo',
  offlineText: 'Tu mensaje',
  offlineSend: 'Enviar el mensaje',
  offlineSent: 'Gracias: hemos recibido tu mensaje y te responderemos por correo.',
  offlineRequired: 'Escribe tu nombre, tu correo y tu mensaje.',
  transcriptTo: 'Envíame la conversación por correo',
  transcriptSend: 'Enviar',
  transcriptSent: (to) => `La conversación va de camino a ${to}.`,
};

const dictionaries = { en, sv, es };

// baseLanguage turns "sv-SE" into "sv".
export function baseLanguage(code) {
  return String(code || '').toLowerCase().split('-')[0];
}

// text returns the texts for a language code (English when unknown).
export function text(code) {
  return dictionaries[baseLanguage(code)] || en;
}

// refusal words a chat_refused reason ("REFUSAL_REASON_QUEUE_FULL").
export function refusal(t, reason) {
  const key = String(reason || '').replace('REFUSAL_REASON_', '');
  return t.refused[key] || t.error;
}

// when formats epoch milliseconds as a weekday, date and time in the
// visitor's language and time zone.
export function when(ms, code) {
  try {
    return new Intl.DateTimeFormat(code, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' })
      .format(new Date(Number(ms)));
  } catch {
    return new Date(Number(ms)).toLocaleString();
  }
}
