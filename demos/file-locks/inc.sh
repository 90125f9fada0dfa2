#!/bin/bash
# inc.sh — read the number in `count`, add one, write it back. Not atomic: between the read (cat) and the write
# (echo >) another inc.sh can do the same, and one of the two updates is lost.
TMP=$(cat count)
echo $((TMP + 1)) > count
