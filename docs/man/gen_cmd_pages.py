#!/usr/bin/env python3
"""gen_cmd_pages.py COFFER - writes coffer-COMMAND.1 for every command from
`coffer COMMAND --help`, so the pages say what the tool says. Run it after
changing a command's help text and commit the pages."""
import os
import re
import subprocess
import sys

coffer = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
top = subprocess.run([coffer, '--help'], capture_output=True, text=True,
                     check=True).stdout
cmds = re.findall(r'^  ([a-z-]+) +(.*)$', top, re.M)


def esc(s):
    return s.replace('\\', '\\e').replace('-', '\\-')


def text_line(s):
    # A text line that starts with . or ' would be read as a request
    # ("..." as the macro ".."); \& in front keeps it text.
    s = esc(s)
    return '\\&' + s if s.startswith(('.', "'")) else s


for name, summary in cmds:
    text = subprocess.run([coffer, name, '--help'], capture_output=True,
                          text=True, check=True).stdout
    lines = text.splitlines()
    usage = lines[0].removeprefix('usage: ')
    out = ['.TH COFFER-%s 1 "2026" "coffer 0.1.0" "User Commands"'
           % name.upper(),
           '.SH NAME', 'coffer\\-%s \\- %s' % (esc(name), esc(summary)),
           '.SH SYNOPSIS', '.B ' + esc(usage), '.SH DESCRIPTION']
    opts = False
    for line in lines[2:]:
        m = re.match(r'^  (-\S.*?)(?:  +(.*))?$', line)
        if m:
            if not opts:
                out.append('.SH OPTIONS')
                opts = True
            out += ['.TP', '.B ' + esc(m.group(1).strip()),
                    text_line(m.group(2) or '')]
        elif line.startswith('   '):
            out.append(text_line(line.strip()))
        elif line:
            out.append(text_line(line))
        else:
            out.append('.PP')
    out += ['.SH SEE ALSO', '.BR coffer (1)', '']
    with open(os.path.join(here, 'coffer-%s.1' % name), 'w') as f:
        f.write('\n'.join(out))
