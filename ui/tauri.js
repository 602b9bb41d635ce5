// The only place that touches the Tauri global, so the preview harness can swap it.
const T = () => window.__TAURI__;

export const invoke = (cmd, args) => T().core.invoke(cmd, args);
export const listen = (name, handler) => T().event.listen(name, handler);
