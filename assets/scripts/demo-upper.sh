# Demo: the shape of the paper's Figure 3, with busybox in place of ffmpeg:
# upper-case a text file and count its words.
OUTPUT_DIR="/tmp/$REQUEST_ID/output"
echo "SCRIPT: Invoked demo. File available in $SCAR_INPUT_FILE"
FILENAME=`basename $SCAR_INPUT_FILE`
OUTPUT_FILE=$OUTPUT_DIR/$FILENAME
tr 'a-z' 'A-Z' < $SCAR_INPUT_FILE > $OUTPUT_FILE
wc -w < $SCAR_INPUT_FILE > $OUTPUT_DIR/$FILENAME.words
echo "SCRIPT: wrote $OUTPUT_FILE ($(wc -c < $OUTPUT_FILE) bytes)"
