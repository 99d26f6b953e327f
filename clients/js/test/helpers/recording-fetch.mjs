// A fetch that notes every request it sends (method, URL, CSRF header, status), so that a test can tell what went on the
// wire: a CSRF refusal and its retry, the pages read, a request that must never have left.
export function recordingFetch() {
  const requests = [];
  const fetchAndRecord = async (input, init = {}) => {
    const headers = new Headers(init.headers);
    const entry = { method: init.method ?? "GET", url: String(input), csrfToken: headers.get("x-csrftoken"), cookie: headers.get("cookie"), status: undefined };
    requests.push(entry);
    const response = await fetch(input, init);
    entry.status = response.status;
    return response;
  };
  return { fetch: fetchAndRecord, requests };
}
