"""The interactive cells of a notebook open in JupyterLite, used as a learner uses them.

The lessons' widget contract: an interactive cell shows one `ipywidgets.VBox` with the class
`d2lmini-widget`, holding at least one slider (IntSlider, FloatSlider) or Dropdown and an
`ipywidgets.Output` in which a Matplotlib figure is drawn, so that moving a control replaces
the PNG in the Output. `widget_problems` finds every such box in the open notebook and, for
each of its controls in turn, changes the value as a user does (a slider: drag its handle
with the mouse; a dropdown: pick the next option), then waits for the figure in the
box's Output to be replaced (another `src`), and reports what did not happen: a box without
a control or a figure, a figure that did not change, an error shown in the box, a widget
that JupyterLab could not display (an error, or its text form in its place).
"""

import re

WIDGET = ".d2lmini-widget"
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"  # the notebook in front
CONTROLS = ".widget-slider .noUi-handle, .widget-dropdown select"
# What JupyterLab shows for a widget view whose model the kernel does not hold: an error, or
# (jupyterlab_widgets 3.0) the widget's text form, `VBox(children=(IntSlider(...`.
DISPLAY_ERRORS = ("Error displaying widget", "model not found")
TEXT_FORM = re.compile(r"^\s*[HV]Box\(children=\(")

FIGURES = """
return [...arguments[0].querySelectorAll('.widget-output img')]
  .filter(img => img.complete && img.naturalWidth > 0).map(img => img.src);
"""
ERRORS = """
return [...arguments[0].querySelectorAll(
    '.widget-output .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
  .map(node => node.innerText.slice(0, 2000));
"""
VALUE = """
const control = arguments[0];
if (control.tagName === 'SELECT') return control.value;
return control.getAttribute('aria-valuetext') || control.getAttribute('aria-valuenow');
"""


def display_errors(text):
    """The lines of a page's text that say a widget could not be displayed, or show its
    text form in its place."""
    return [line.strip()[:120] for line in text.splitlines()
            if any(error in line for error in DISPLAY_ERRORS) or TEXT_FORM.match(line)]


def label_of(control):
    """The control's description (the label beside it), for the report."""
    from selenium.webdriver.common.by import By

    box = control.find_element(By.XPATH, "ancestor::*[contains(@class, 'jupyter-widgets')"
                                         " and contains(@class, 'widget-inline-hbox')][1]")
    labels = box.find_elements(By.CSS_SELECTOR, ".widget-label")
    return (labels[0].text if labels else "") or control.tag_name


def change(driver, control):
    """Change the control's value as a user does; return a description of the change."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import Select

    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", control)
    if control.tag_name == "select":
        select = Select(control)
        options = [option.get_attribute("value") for option in select.options]
        index = options.index(select.first_selected_option.get_attribute("value"))
        select.select_by_index((index + 1) % len(options))
        return f"picked {options[(index + 1) % len(options)]!r}"
    # A slider: drag its handle a quarter of the track (back, if it is at its maximum), as a
    # mouse does. (An arrow key on the focused handle does not move it in this JupyterLab.)
    at_max = control.get_attribute("aria-valuenow") == control.get_attribute("aria-valuemax")
    track = driver.execute_script(
        "return arguments[0].closest('.noUi-target').getBoundingClientRect().width;", control)
    offset = max(track / 4, 10) * (-1 if at_max else 1)
    ActionChains(driver).click_and_hold(control).move_by_offset(offset, 0).release().perform()
    return f"dragged {'left' if at_max else 'right'} {abs(offset):.0f} px"


def widget_problems(driver, where, timeout=60):
    """What fails when each control of each d2lmini widget in the page is moved; and
    the number of widgets and controls checked. `where` names the notebook in the report."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    problems, checked = [], 0
    boxes = driver.find_elements(By.CSS_SELECTOR, f"{NOTEBOOK} {WIDGET}")
    for number, box in enumerate(boxes, start=1):
        name = f"{where}: widget {number} of {len(boxes)}"
        try:
            WebDriverWait(driver, timeout).until(lambda d: d.execute_script(FIGURES, box))
        except TimeoutException:
            problems.append(f"{name}: no figure in its Output after {timeout} s")
            continue
        controls = box.find_elements(By.CSS_SELECTOR, CONTROLS)
        if not controls:
            problems.append(f"{name}: no slider or dropdown")
        for control in controls:
            before = driver.execute_script(FIGURES, box)
            value = driver.execute_script(VALUE, control)
            label = label_of(control)
            what = change(driver, control)
            after = driver.execute_script(VALUE, control)
            if after == value:
                problems.append(f"{name}, {label!r}: {what}, the value stayed {value}")
                continue
            try:
                WebDriverWait(driver, timeout).until(
                    lambda d: (figures := d.execute_script(FIGURES, box)) and figures != before)
            except TimeoutException:
                problems.append(f"{name}, {label!r}: {what} ({value} -> {after}), the figure "
                                f"did not change in {timeout} s")
            checked += 1
        errors = driver.execute_script(ERRORS, box)
        problems += [f"{name}: error shown in the widget:\n{error}" for error in errors]
    page = driver.execute_script(f"return document.querySelector('{NOTEBOOK}')?.innerText"
                                 " || ''")
    problems += [f"{where}: the page says {line!r}" for line in display_errors(page)]
    return problems, len(boxes), checked
