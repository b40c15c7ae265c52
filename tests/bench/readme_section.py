"""What the bench formatters (tests/bench/*.py) share: how they name the machine, and how they
replace their marked section of the README."""
import datetime
import os
import platform


def measured_on():
    """'Measured 2026-12-01 on <cpu> (<n> cores)'."""
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')),
               platform.processor())
    return f'Measured {datetime.date.today()} on {cpu} ({os.cpu_count()} cores)'


def replace_section(readme_path, name, lines, heading=None):
    """Replaces the text between <!-- NAME:begin --> and <!-- NAME:end --> with `lines` (or appends
    it, under `heading` if given) and prints the lines."""
    text = open(readme_path).read()
    begin, end = f'<!-- {name}:begin -->', f'<!-- {name}:end -->'
    block = begin + '\n' + '\n'.join(lines) + '\n' + end
    if begin in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text += '\n' + (f'## {heading}\n\n' if heading else '') + block + '\n'
    open(readme_path, 'w').write(text)
    print('\n'.join(lines))
