# The paper's Figure 8 (SCAR, section 4.2): YOLO object detection with Darknet.
# Runs unchanged under scar-supervisor in an image with /opt/darknet.
OUTPUT_DIR="/tmp/$REQUEST_ID/output"
FILENAME=`basename $SCAR_INPUT_FILE .jpg`
RESULT="$OUTPUT_DIR/$FILENAME.out"
OUTPUT_IMAGE=$FILENAME-out
echo "SCRIPT: Received file '$SCAR_INPUT_FILE'."
echo "SCRIPT: Saving result in '$RESULT' and output image in '$OUTPUT_IMAGE.png'"
cd /opt/darknet
./darknet detect cfg/yolo.cfg yolo.weights $SCAR_INPUT_FILE -out $OUTPUT_IMAGE > $RESULT
mv $OUTPUT_IMAGE.png $OUTPUT_DIR/
