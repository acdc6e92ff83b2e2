/*
 * The course's Validate button (student faces: lab/student for `make lab`, hub/student on the workshop hub).
 *
 * It saves the notebook, asks the server to validate it (POST course/validate), polls the run
 * (GET course/validate/<id>) and shows "Validating… 12/37 cells" on the button, then a dialog whose first
 * line is "k of n checks passed in t s." followed by each failed cell. The server side is
 * autograder/lab/validation.py, which runs nbgrader's validation in a separate process.
 *
 * Why hand-written: students run `make lab` on laptops without Node, so there is no build step and no
 * node_modules; this file is the whole extension, served as it is. It plays the part of the
 * module-federation container a webpack build would generate, following the contract of JupyterLab 4's
 * loader (share/jupyter/lab/static in the environment):
 *   - jupyterlab_server (config.py: get_federated_extensions, get_page_config) lists every
 *     <data dir>/labextensions/<name>/package.json with a jupyterlab._build entry; lab/ is a Jupyter data
 *     folder of the lab faces (autograder/lab/faces.py: lab_environment) and of the hub's students (hub/workshop.py);
 *   - bootstrap.js (loadComponent) adds static/remoteEntry.js as a <script>, then calls
 *     window._JUPYTERLAB[name].init(shareScope) with the application's webpack share scope;
 *   - index.out.js (createModule) awaits window._JUPYTERLAB[name].get('./extension'), calls the factory it
 *     resolves to and registers the plugin(s) of the module's `default` export (getPlugins, activePlugins),
 *     unless page_config.json disables them (lab/instructor disables this one).
 * JupyterLab's packages are taken from the share scope, so the classes are the application's own instances.
 * Nothing from the notebook or the server goes into innerHTML: all text is set with textContent.
 */
(function () {
  'use strict';

  const NAME = 'pytorch-course-validate';
  const POLL_MS = 700;
  let shareScope = null;

  // 1 when version a is newer than b (numeric major.minor.patch; enough for JupyterLab's own packages).
  function newer(a, b) {
    const x = a.split('.').map(part => parseInt(part, 10) || 0);
    const y = b.split('.').map(part => parseInt(part, 10) || 0);
    for (let i = 0; i < 3; i++) {
      if ((x[i] || 0) !== (y[i] || 0)) {
        return (x[i] || 0) > (y[i] || 0) ? 1 : -1;
      }
    }
    return 0;
  }

  // A package from the share scope, as webpack picks a singleton: a version already loaded, else the newest.
  // Each entry's get() resolves to a factory that returns the (cached) module.
  async function shared(pkg) {
    const versions = (shareScope && shareScope[pkg]) || {};
    const keys = Object.keys(versions).sort((a, b) => newer(b, a));
    const key = keys.find(k => versions[k].loaded) || keys[0];
    if (key === undefined) {
      throw new Error(`${NAME}: ${pkg} is not in JupyterLab's share scope`);
    }
    const factory = await versions[key].get();
    return factory();
  }

  function plugin(apputils, services, widgets) {
    const { Dialog, ToolbarButton, showDialog } = apputils;
    const { ServerConnection } = services;
    const { Widget } = widgets;

    async function call(settings, path, init) {
      const url = settings.baseUrl.replace(/\/?$/, '/') + path;
      const response = await ServerConnection.makeRequest(url, init || {}, settings);  // adds token and XSRF
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        throw new Error(data.message || `${response.status} ${response.statusText}`);
      }
      return data;
    }

    function setLabel(button, text) {
      // ToolbarButton has no label setter: it renders from its props (@jupyterlab/ui-components 4).
      button.props = Object.assign({}, button.props, { label: text });
      button.update();
    }

    async function validate(panel, button) {
      if (!button.enabled) {
        return;
      }
      button.enabled = false;
      let dialog;
      try {
        setLabel(button, 'Saving…');
        await panel.context.save();
        setLabel(button, 'Validating…');
        const settings = ServerConnection.makeSettings();
        const path = panel.context.localPath || panel.context.path;
        let state = await call(settings, 'course/validate', { method: 'POST', body: JSON.stringify({ path }) });
        while (!state.done) {
          setLabel(button, state.cells ? `Validating… ${state.executed}/${state.cells} cells` : 'Validating…');
          await new Promise(resolve => setTimeout(resolve, POLL_MS));
          state = await call(settings, `course/validate/${state.id}`);
        }
        dialog = { title: 'Validation Results', body: new Widget({ node: results(state) }) };
      } catch (error) {
        dialog = { title: 'Validation failed', body: `Cannot validate: ${error.message || error}` };
      } finally {
        setLabel(button, 'Validate');
        button.enabled = true;
        button.pressed = false;  // ToolbarButton toggles "pressed" on each click
      }
      await showDialog(Object.assign(dialog, { buttons: [Dialog.okButton()] }));
    }

    return {
      id: `${NAME}:plugin`,
      description: 'A Validate button on notebooks: progress while the notebook runs, then "k of n checks passed".',
      autoStart: true,
      activate(app) {
        app.docRegistry.addWidgetExtension('Notebook', {
          createNew(panel) {
            const button = new ToolbarButton({
              className: 'course-validate-button',
              label: 'Validate',
              tooltip: 'Run the saved notebook in a fresh kernel, as the grader does, and count the checks that pass',
              onClick: () => void validate(panel, button)
            });
            let index = 0;  // before the toolbar's spacer, where nbgrader's own Validate button goes
            for (const item of panel.toolbar.children()) {
              if (!item || item.node.classList.contains('jp-Toolbar-spacer')) {
                break;
              }
              index++;
            }
            panel.toolbar.insertItem(index, 'courseValidate', button);
            return button;
          }
        });
      }
    };
  }

  const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

  function errorText(cell) {
    if (typeof cell.raw_error === 'string') {
      return cell.raw_error.replace(ANSI, '');
    }
    // nbgrader's HTML (ANSI colours as spans), read as text by a parser that runs nothing.
    return new DOMParser().parseFromString(cell.error || '', 'text/html').body.textContent;
  }

  // The dialog's body: the summary first, then what nbgrader reported (as its own dialog does), as text.
  function results(state) {
    const node = document.createElement('div');
    node.className = 'course-validate-results';
    node.style.maxWidth = '80ch';
    const add = (tag, text, className) => {
      const element = document.createElement(tag);
      element.textContent = text;
      if (className) {
        element.className = className;
      }
      element.style.flex = 'none';  // the dialog's body is a flex column: keep each block its full height
      if (tag === 'pre') {
        element.style.whiteSpace = 'pre-wrap';
        element.style.overflow = 'auto';
        element.style.maxHeight = '16em';
        element.style.padding = '4px 8px';
        element.style.background = 'var(--jp-layout-color2)';
      }
      node.appendChild(element);
      return element;
    };
    const answer = state.answer || {};
    if (state.summary) {
      add('p', state.summary, 'course-validate-summary');
    }
    if (!answer.success) {
      add('p', 'There was an error running the validation:');
      add('pre', String(answer.value));
      return node;
    }
    const value = typeof answer.value === 'string' ? JSON.parse(answer.value) : answer.value || {};
    for (const cell of value.type_changed || []) {
      add('p', `The following ${cell.old_type} cell has changed to a ${cell.new_type} cell, but it should not have!`);
      add('pre', cell.source);
    }
    for (const cell of value.changed || []) {
      add('p', 'The source of the following cell has changed, but it should not have!');
      add('pre', cell.source);
    }
    for (const cell of value.failed || []) {
      add('p', 'The following cell failed:');
      add('pre', cell.source);
      const error = errorText(cell);
      if (!error.trim()) {
        continue;  // a written answer left blank fails without an error
      }
      // The one line written for the learner first and alone; the whole error folded below it.
      add('pre', cell.message || error, 'course-validate-error');
      if (cell.message && error.trim() !== cell.message) {
        const details = add('details', '');
        const summary = document.createElement('summary');
        summary.textContent = 'Full error';
        details.appendChild(summary);
        const full = document.createElement('pre');
        full.textContent = error;
        full.style.whiteSpace = 'pre-wrap';
        details.appendChild(full);
      }
    }
    if (!state.summary && !value.type_changed && !value.changed && !value.failed) {
      add('p', 'Success! Your notebook passes all the tests.');
    }
    if (state.summary) {
      add('p', 'Hidden checks (other inputs, edge cases) run only at grading.');
    }
    return node;
  }

  window._JUPYTERLAB = window._JUPYTERLAB || {};
  window._JUPYTERLAB[NAME] = {
    init(scope) {
      shareScope = scope;
    },
    async get(module) {
      if (module !== './extension') {
        throw new Error(`Module "${module}" does not exist in container.`);
      }
      const [apputils, services, widgets] = await Promise.all(
        ['@jupyterlab/apputils', '@jupyterlab/services', '@lumino/widgets'].map(shared)
      );
      const exports = { __esModule: true, default: plugin(apputils, services, widgets) };
      return () => exports;
    }
  };
})();
