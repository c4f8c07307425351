#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Seed corpora for fuzz-localite and fuzz-brainsight (python3, no other module).

Cut-down copies of the navigator exports in tests/data/nnav (SimNIBS testing
files, GPL-3.0) plus small files written here.  fuzz-brainsight takes the first
byte as the table selector: 'T' (even) reads targets, 'S' (odd) samples.

    cd tests/fuzz && python3 make-nnav-seeds.py
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'data', 'nnav')


def put(folder, name, data):
    os.makedirs(os.path.join(HERE, folder), exist_ok=True)
    with open(os.path.join(HERE, folder, name), 'wb') as f:
        f.write(data.encode('utf-8') if isinstance(data, str) else data)


# ---- Localite --------------------------------------------------------------
ras = open(os.path.join(DATA, 'localite', 'RAS_InstrumentMarker.xml')).read()
lps = open(os.path.join(DATA, 'localite', 'LPS_InstrumentMarker.xml')).read()
trig = open(os.path.join(DATA, 'localite', 'TriggerMarkers_Coil0.xml')).read()

markers = re.findall(r'    <InstrumentMarker .*?</InstrumentMarker>\n', ras, re.S)
head = ras[:ras.index('    <InstrumentMarker ')]
put('corpus-localite', 'ras_two.xml', head + ''.join(markers[:2]) + '</InstrumentMarkerList>\n')
put('corpus-localite', 'lps.xml', lps)
tms = re.findall(r'    <TriggerMarker .*?</TriggerMarker>\n', trig, re.S)
put('corpus-localite', 'trigger_two.xml',
    trig[:trig.index('    <TriggerMarker ')] + ''.join(tms[:2]) + '</TriggerMarkerList>\n')
put('corpus-localite', 'minimal.xml',
    "<InstrumentMarkerList coordinateSpace='RAS'><InstrumentMarker><Marker description='a'>"
    "<Matrix4D data00='0' data01='0' data02='1' data03='1' data10='0' data11='-1' data12='0' "
    "data13='2' data20='1' data21='0' data22='0' data23='3' data30='0' data31='0' data32='0' "
    "data33='1'/></Marker></InstrumentMarker></InstrumentMarkerList>")
put('corpus-localite', 'empty_list.xml', '<?xml version="1.0"?>\n<InstrumentMarkerList coordinateSpace="lps"/>\n')
put('corpus-localite', 'tmsfield.xml', '''<?xml version="1.0" encoding="UTF-8"?>
<InstrumentMarkerList coordinateSpace="LPS">
    <!--Written by tmsfield-->
    <InstrumentMarker alwaysVisible="false" index="0" selected="false">
        <Marker additionalInformation="" color="#ff0000" description="M1 &amp; &lt;x&gt; &quot;\u00d6l\u2713" set="true">
            <Matrix4D
                data00="0.00000000000000000" data01="1.00000000000000000" data02="0.00000000000000000" data03="-10.00000000000000000"
                data10="0.00000000000000000" data11="0.00000000000000000" data12="-1.00000000000000000" data13="20.00000000000000000"
                data20="-1.00000000000000000" data21="0.00000000000000000" data22="0.00000000000000000" data23="90.00000000000000000"
                data30="0.00000000000000000" data31="0.00000000000000000" data32="0.00000000000000000" data33="1.00000000000000000"/>
        </Marker>
    </InstrumentMarker>
</InstrumentMarkerList>
''')
put('corpus-localite', 'doctype_crlf.xml', (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE InstrumentMarkerList [\n'
    '<!ENTITY nm "hot&#x9;spot">\n]>\n<InstrumentMarkerList coordinateSpace="RAS">'
    '<![CDATA[ignored <text>]]><!-- c -->\n<Other/>\n' + markers[3] +
    '<InstrumentMarker><Marker description="&nm;&#233;">'
    '<Matrix4D data00="+1e0" data01="0.0" data02="-0.0" data03="1E3" data10="0" data11="1"'
    ' data12="0" data13="-2.5e-1" data20="0" data21="0" data22="1" data23=" 7 "'
    ' data30="0" data31="0" data32="0" data33="1.0"/></Marker></InstrumentMarker>\n'
    '</InstrumentMarkerList>\n').replace('\n', '\r\n'))

# ---- Brainsight ------------------------------------------------------------
bs = open(os.path.join(DATA, 'brainsight', 'niiImage_niftialignedcoord.txt')).read().split('\n')
hdr = [i for i, l in enumerate(bs) if l.startswith('#') and '\t' in l]
t0, s0, e0, p0, q0 = hdr[:5]
cut = bs[:s0 + 6] + bs[e0:p0 + 3] + bs[q0:q0 + 4]
text = '\n'.join(cut) + '\n'
put('corpus-brainsight', 'targets_samples.txt', 'T' + text)
put('corpus-brainsight', 'samples.txt', 'S' + text)
put('corpus-brainsight', 'scanner_crlf.txt',
    'T' + text.replace('NIfTI:Aligned', 'NIfTI:Scanner').replace('\n', '\r\n'))
put('corpus-brainsight', 'samples_only.txt', 'S' + '\n'.join(bs[:t0] + bs[s0:s0 + 4]) + '\n')
put('corpus-brainsight', 'tmsfield.txt', 'T' + '''# Version: 12
# Coordinate system: NIfTI:Aligned
# Created by: tmsfield 0.1.0
# Units: millimetres, degrees, milliseconds, and microvolts
# Encoding: UTF-8
# Notes: Each column is delimited by a tab. Each value within a column is delimited by a semicolon.
# Target Name\tLoc. X\tLoc. Y\tLoc. Z\tm0n0\tm0n1\tm0n2\tm1n0\tm1n1\tm1n2\tm2n0\tm2n1\tm2n2
M1 & <x>\t10.00000000000000000\t-20.00000000000000000\t90.00000000000000000\t0.00000000000000000\t-1.00000000000000000\t0.00000000000000000\t1.00000000000000000\t0.00000000000000000\t0.00000000000000000\t0.00000000000000000\t0.00000000000000000\t1.00000000000000000
\u00d6l \u2713\t0\t0\t100\t-1\t0\t0\t0\t-1\t0\t0\t0\t1
''')
put('corpus-brainsight', 'minimal.txt',
    'T# Coordinate system: NIfTI:Aligned\n# Target Name\tm2n2\tm2n1\tm2n0\tm1n2\tm1n1\tm1n0\tm0n2\tm0n1'
    '\tm0n0\tLoc. Z\tLoc. Y\tLoc. X\nA\t1\t0\t0\t0\t1\t0\t0\t0\t1\t3\t2\t1\n\n')
