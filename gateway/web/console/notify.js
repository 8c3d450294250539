// Notifications: a short sound, the count in the tab's title, and the
// browser's notification when the person allowed it and the tab is not in
// view.
export class Notifier {
  constructor() {
    this.base = 'Switchboard';
    this.unread = 0;
    this.offered = 0;
    this.audio = null;
    // Browsers let a page play sound only after the person used it once.
    addEventListener('pointerdown', () => this.unlock(), { once: true });
    addEventListener('keydown', () => this.unlock(), { once: true });
    document.title = this.base;
  }

  unlock() {
    try {
      this.audio = this.audio || new AudioContext();
    } catch {
      this.audio = null;
    }
  }

  ask(button) {
    Notification.requestPermission().then(() => { button.hidden = Notification.permission !== 'default'; });
  }

  beep(high) {
    const a = this.audio;
    if (!a || a.state !== 'running') return;
    const osc = a.createOscillator();
    const gain = a.createGain();
    osc.frequency.value = high ? 880 : 660;
    gain.gain.setValueAtTime(0.08, a.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, a.currentTime + 0.25);
    osc.connect(gain).connect(a.destination);
    osc.start();
    osc.stop(a.currentTime + 0.25);
  }

  // ping tells of something new: sound, and a notification when hidden.
  ping(title, body, urgent = false) {
    this.beep(urgent);
    if (document.hidden && 'Notification' in window && Notification.permission === 'granted') {
      new Notification(title, { body, tag: 'switchboard' });
    }
  }

  count(unread) {
    this.unread = unread;
    this.title();
  }

  offers(n) {
    this.offered = n;
    this.title();
  }

  title() {
    const parts = [];
    if (this.offered) parts.push(`${this.offered} offered`);
    if (this.unread) parts.push(`${this.unread} unread`);
    document.title = parts.length ? `(${parts.join(', ')}) ${this.base}` : this.base;
  }
}
