# The paper's Figure 3 (SCAR, section 4): transcode a video to grayscale.
# Runs unchanged under scar-supervisor in an image that has ffmpeg.
OUTPUT_DIR="/tmp/$REQUEST_ID/output"
echo "SCRIPT: Invoked Video Grayifier. File available in $SCAR_INPUT_FILE"
FILENAME=`basename $SCAR_INPUT_FILE`
OUTPUT_FILE=$OUTPUT_DIR/$FILENAME
echo "SCRIPT: Converting input video file $SCAR_INPUT_FILE to grayscale to output file $OUTPUT_FILE"
ffmpeg -loglevel panic -nostats -i $SCAR_INPUT_FILE -vf format=gray $OUTPUT_FILE < /dev/null
