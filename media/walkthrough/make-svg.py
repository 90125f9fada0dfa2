#!/usr/bin/env python3
"""Writes the walkthrough's diagrams in English (en/) and Korean (ko/). Colours come from the editor theme
(--vscode-* variables, which walkthrough SVG media may use), so the diagrams follow light, dark and high contrast."""
import os

FG = 'var(--vscode-foreground)'
MUTED = 'var(--vscode-descriptionForeground)'
BORDER = 'var(--vscode-contrastBorder, var(--vscode-editorWidget-border))'
BLUE = 'var(--vscode-charts-blue)'
GREEN = 'var(--vscode-charts-green)'
ORANGE = 'var(--vscode-charts-orange)'
RED = 'var(--vscode-charts-red)'
BG = 'var(--vscode-editorWidget-background)'
FONT = 'font-family="var(--vscode-font-family)" '

T = {
  'en': dict(parent='parent', child='child', pipe='pipe', write='write("hello")', read='read → "hello"', eof='read → 0 (EOF)',
             time='time →', waiting='read: waiting', bytes='5 bytes', shared='shared', private='private (copied)',
             before='right after fork', after='after the child writes', fault='one fault per page',
             holds='holds', waits='waits for', t1='thread one', t2='thread two', cycle='a cycle: deadlock',
             g=['Memory', 'Signals', 'Pipes', 'Message queues', 'Shared memory', 'Locks and synchronization'],
             demos=['Copy-on-write after fork', 'Anonymous pipes', 'Deadlock: two threads, two mutexes'],
             gal='Demo Gallery'),
  'ko': dict(parent='부모', child='자식', pipe='파이프', write='write("hello")', read='read → "hello"', eof='read → 0 (EOF)',
             time='시간 →', waiting='read: 기다리는 중', bytes='5바이트', shared='공유', private='전용 (복사됨)',
             before='fork 직후', after='자식이 쓴 뒤', fault='페이지마다 폴트 한 번',
             holds='쥠', waits='기다림', t1='스레드 하나', t2='스레드 둘', cycle='순환: 교착 상태',
             g=['메모리', '시그널', '파이프', '메시지 큐', '공유 메모리', '락과 동기화'],
             demos=['fork 이후의 카피 온 라이트', '익명 파이프', '교착 상태: 스레드 둘, 뮤텍스 둘'],
             gal='데모 갤러리'),
}

def svg(body, w=480, h=300):
  return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}">\n'
          '<defs><marker id="a" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
          f'<path d="M0 0L10 5L0 10z" fill="{FG}"/></marker></defs>\n{body}</svg>\n')

def text(x, y, s, size=14, fill=FG, anchor='start', weight='normal'):
  return f'<text x="{x}" y="{y}" {FONT}font-size="{size}" fill="{fill}" text-anchor="{anchor}" font-weight="{weight}">{s}</text>\n'

def box(x, y, w, h, fill=BG, stroke=BORDER, rx=6):
  return f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="{rx}" fill="{fill}" stroke="{stroke}"/>\n'

def line(x1, y1, x2, y2, color=FG, width=2, arrow=True, dash=''):
  d = f' stroke-dasharray="{dash}"' if dash else ''
  m = ' marker-end="url(#a)"' if arrow else ''
  return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{color}" stroke-width="{width}"{d}{m}/>\n'

def pipe(t):
  b = box(30, 110, 120, 70) + text(90, 150, t['parent'], 16, anchor='middle', weight='bold')
  b += box(330, 110, 120, 70) + text(390, 150, t['child'], 16, anchor='middle', weight='bold')
  b += f'<rect x="170" y="132" width="140" height="26" rx="13" fill="none" stroke="{BLUE}" stroke-width="3"/>\n'
  b += text(240, 125, t['pipe'], 13, MUTED, 'middle')
  b += line(150, 145, 325, 145, BLUE, 3)
  b += text(90, 210, t['write'], 13, anchor='middle') + text(390, 210, t['read'], 13, anchor='middle')
  b += text(390, 230, t['eof'], 13, MUTED, 'middle')
  return svg(b)

def timeline(t):
  b = text(20, 80, t['parent'], 14, weight='bold') + text(20, 170, t['child'], 14, weight='bold')
  b += line(90, 75, 460, 75, MUTED, 1, False) + line(90, 165, 460, 165, MUTED, 1, False)
  b += box(180, 62, 40, 26, BLUE, BLUE, 3)
  b += box(130, 152, 170, 26, 'none', GREEN, 3).replace('/>', ' stroke-width="2" stroke-dasharray="5 3"/>')
  b += text(215, 200, t['waiting'], 12, MUTED, 'middle')
  b += box(300, 152, 30, 26, GREEN, GREEN, 3)
  b += line(220, 88, 300, 152, FG, 2)
  b += text(275, 115, t['bytes'], 12, FG)
  b += line(90, 250, 460, 250, MUTED, 1) + text(460, 270, t['time'], 12, MUTED, 'end')
  return svg(b)

def cow(t):
  def grid(x0, y0, private_cells):
    out = ''
    for r in range(6):
      for c in range(8):
        i = r * 8 + c
        fill = ORANGE if i in private_cells else BLUE
        out += f'<rect x="{x0 + c * 22}" y="{y0 + r * 22}" width="19" height="19" rx="2" fill="{fill}"/>\n'
    return out
  b = text(110, 40, t['before'], 14, anchor='middle', weight='bold') + text(370, 40, t['after'], 14, anchor='middle', weight='bold')
  b += grid(22, 60, set())
  b += grid(282, 60, set(range(0, 48)) - {5, 17, 30, 44})
  b += line(208, 125, 272, 125, FG, 2)
  b += f'<rect x="60" y="212" width="14" height="14" fill="{BLUE}"/>' + text(80, 224, t['shared'], 13)
  b += f'<rect x="200" y="212" width="14" height="14" fill="{ORANGE}"/>' + text(220, 224, t['private'], 13)
  b += text(240, 270, t['fault'], 13, MUTED, 'middle')
  return svg(b)

def deadlock(t):
  b = box(40, 40, 130, 60) + text(105, 76, t['t1'], 15, anchor='middle', weight='bold')
  b += box(310, 40, 130, 60) + text(375, 76, t['t2'], 15, anchor='middle', weight='bold')
  b += f'<circle cx="105" cy="220" r="34" fill="none" stroke="{BLUE}" stroke-width="3"/>' + text(105, 227, 'A', 20, anchor='middle', weight='bold')
  b += f'<circle cx="375" cy="220" r="34" fill="none" stroke="{BLUE}" stroke-width="3"/>' + text(375, 227, 'B', 20, anchor='middle', weight='bold')
  b += line(105, 186, 105, 104, GREEN, 3) + text(115, 150, t['holds'], 12, GREEN)
  b += line(375, 186, 375, 104, GREEN, 3) + text(385, 150, t['holds'], 12, GREEN)
  b += line(170, 90, 345, 195, RED, 3, True, '7 4') + text(250, 178, t['waits'], 12, RED)
  b += line(310, 90, 135, 195, RED, 3, True, '7 4') + text(230, 178, t['waits'], 12, RED, 'end')
  b += text(240, 285, t['cycle'], 15, RED, 'middle', 'bold')
  return svg(b)

def gallery(t):
  b = box(20, 20, 440, 260) + text(36, 46, t['gal'].upper(), 12, MUTED, weight='bold')
  y = 72
  rows = [(t['g'][0], [t['demos'][0]]), (t['g'][2], [t['demos'][1]]), (t['g'][5], [t['demos'][2]])]
  for g, ds in rows:
    b += text(36, y, '⌄ ' + g, 14, weight='bold'); y += 24
    for d in ds:
      b += text(60, y, '⚗ ' + d, 13)
      for i, (glyph, col) in enumerate((('▶', GREEN), ('↷', BLUE), ('▤', FG))):
        b += text(380 + i * 24, y, glyph, 14, col, 'middle')
      y += 26
  for g in (t['g'][1], t['g'][3], t['g'][4]):
    b += text(36, y, '› ' + g, 14, MUTED); y += 22
  return svg(b)

here = os.path.dirname(os.path.abspath(__file__))
for lang, t in T.items():
  os.makedirs(os.path.join(here, lang), exist_ok=True)
  for name, fn in (('pipe', pipe), ('timeline', timeline), ('cow', cow), ('deadlock', deadlock), ('gallery', gallery)):
    with open(os.path.join(here, lang, f'{name}.svg'), 'w', encoding='utf-8') as f:
      f.write(fn(t))
