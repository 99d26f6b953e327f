(function () {
  'use strict';
  // The token the server put in the page: writes send it in the header, as DRF's page does.
  var csrf = JSON.parse(document.getElementById('drf_csrf').textContent);

  function element(name, className, text) {
    var made = document.createElement(name);
    if (className) { made.className = className; }
    if (text !== undefined) { made.textContent = text; }
    return made;
  }

  // Tabs ("HTML form" / "Raw data"): one panel shown at a time, arrow keys move between tabs.
  document.querySelectorAll('[role="tablist"]').forEach(function (list) {
    var tabs = Array.prototype.slice.call(list.querySelectorAll('[role="tab"]'));
    function select(chosen) {
      tabs.forEach(function (tab) {
        var selected = tab === chosen;
        tab.setAttribute('aria-selected', selected ? 'true' : 'false');
        tab.tabIndex = selected ? 0 : -1;
        document.getElementById(tab.getAttribute('aria-controls')).hidden = !selected;
      });
    }
    tabs.forEach(function (tab, index) {
      tab.addEventListener('click', function () { select(tab); });
      tab.addEventListener('keydown', function (event) {
        var step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
        if (step === 0) { return; }
        var next = tabs[(index + step + tabs.length) % tabs.length];
        select(next);
        next.focus();
      });
    });
  });

  // Shows an answer fetched by the page the way the page shows its own: request line, status, headers, body.
  function showResponse(method, url, response, text) {
    var request = document.getElementById('request-line');
    request.replaceChildren(element('b', null, method), ' ' + url);
    var meta = element('span', 'meta');
    meta.append(element('b', null, 'HTTP ' + response.status + ' ' + response.statusText));
    ['Allow', 'Content-Type', 'Vary', 'Location'].forEach(function (name) {
      var value = response.headers.get(name);
      if (value) { meta.append('\n', element('b', null, name + ':'), ' ', element('span', 'lit', value)); }
    });
    meta.append('\n\n');
    var body = text;
    try { body = JSON.stringify(JSON.parse(text), null, 4); } catch (notJson) { /* shown as it came */ }
    document.getElementById('response').replaceChildren(meta, body);
  }

  function messagesOf(value) {
    return [].concat(value).map(function (item) { return typeof item === 'string' ? item : JSON.stringify(item); });
  }

  function clearErrors(form) {
    form.querySelectorAll('.has-error').forEach(function (group) { group.classList.remove('has-error'); });
    form.querySelectorAll('[aria-invalid]').forEach(function (input) { input.removeAttribute('aria-invalid'); });
    form.querySelectorAll('.field-errors').forEach(function (list) { list.replaceChildren(); list.hidden = true; });
    var summary = form.querySelector('.form-errors');
    summary.replaceChildren();
    summary.hidden = true;
  }

  function showFormErrors(form, messages) {
    if (messages.length === 0) { return; }
    var list = element('ul');
    messages.forEach(function (message) { list.append(element('li', null, message)); });
    var summary = form.querySelector('.form-errors');
    summary.replaceChildren(list);
    summary.hidden = false;
  }

  // A 400 puts each field's messages beside its input; whatever names no input goes above the form.
  function showErrors(form, status, text) {
    clearErrors(form);
    var body = null;
    try { body = JSON.parse(text); } catch (notJson) { body = null; }
    var elsewhere = [];
    var firstInvalid = null;
    if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
      Object.keys(body).forEach(function (name) {
        var messages = messagesOf(body[name]);
        var group = status === 400 ? form.querySelector('[data-field="' + CSS.escape(name) + '"]') : null;
        if (group === null) {
          var general = name === 'detail' || name === 'non_field_errors';
          messages.forEach(function (message) { elsewhere.push(general ? message : name + ': ' + message); });
          return;
        }
        group.classList.add('has-error');
        var list = group.querySelector('.field-errors');
        messages.forEach(function (message) { list.append(element('li', null, message)); });
        list.hidden = false;
        var input = group.querySelector('input, select, textarea');
        input.setAttribute('aria-invalid', 'true');
        firstInvalid = firstInvalid || input;
      });
    } else {
      elsewhere.push('HTTP ' + status + (text ? ': ' + text : ''));
    }
    showFormErrors(form, elsewhere);
    if (firstInvalid) { firstInvalid.focus(); }
  }

  function setBusy(form, busy) {
    form.querySelectorAll('button').forEach(function (button) { button.disabled = busy; });
  }

  // Writes go with fetch, the CSRF token in its header; a success goes where the server points (or back to this page).
  document.querySelectorAll('form.write').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var method = (event.submitter && event.submitter.dataset.method) || form.dataset.method;
      var url = form.getAttribute('action');
      var init = { method: method, credentials: 'same-origin', headers: { 'Accept': 'application/json' } };
      init.headers[csrf.csrfHeaderName] = csrf.csrfToken;
      if (form.classList.contains('html-form')) {
        init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
        init.body = new URLSearchParams(new FormData(form)).toString();
      } else if (form.classList.contains('raw-form')) {
        init.headers['Content-Type'] = form.querySelector('select[name="_content_type"]').value;
        init.body = form.querySelector('textarea[name="_content"]').value;
      }
      setBusy(form, true);
      fetch(url, init).then(function (response) {
        return response.text().then(function (text) {
          var stay = form.dataset.stay !== undefined;
          var next = response.ok && !stay ? response.headers.get('Location') || form.dataset.next : null;
          if (next) {
            window.location.assign(next);
            return;
          }
          setBusy(form, false);
          showResponse(method, url, response, text);
          if (response.ok) { clearErrors(form); } else { showErrors(form, response.status, text); }
        });
      }).catch(function (failure) {
        setBusy(form, false);
        showFormErrors(form, ['The request could not be sent: ' + failure.message]);
      });
    });
  });

  // DELETE asks first, in a dialog the page draws (not window.confirm).
  var deleteDialog = document.getElementById('delete-dialog');
  if (deleteDialog) {
    document.getElementById('submit-DELETE').addEventListener('click', function () { deleteDialog.showModal(); });
    document.getElementById('cancel-DELETE').addEventListener('click', function () { deleteDialog.close(); });
  }

  // OPTIONS shows its answer in place of the page's own.
  var optionsButton = document.getElementById('options-button');
  if (optionsButton) {
    optionsButton.addEventListener('click', function () {
      var url = optionsButton.dataset.url;
      fetch(url, { method: 'OPTIONS', credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
        .then(function (response) {
          return response.text().then(function (text) { showResponse('OPTIONS', url, response, text); });
        });
    });
  }
})();
