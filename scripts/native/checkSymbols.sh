#!/usr/bin/env bash
# Print the TF_*/TFE_* functions that the tfjs-node 4.22 binding calls and that the libtensorflow in
# $1 (a directory with libtensorflow_cc.so.2 and libtensorflow_framework.so.2) does not export.
# Exit 1 when any is missing. The list is every C API call in binding/*.cc and *.h of
# @tensorflow/tfjs-node 4.22.0 (TF_TString_* are inline in ctstring.h and need no symbol).
set -euo pipefail
DIR="$1"
NEEDED="TFE_ContextListDevices TFE_DeleteContext TFE_DeleteContextOptions TFE_DeleteOp
TFE_DeleteTensorHandle TFE_Execute TFE_NewContext TFE_NewContextOptions TFE_NewOp TFE_NewTensorHandle
TFE_OpAddInput TFE_OpSetAttrBool TFE_OpSetAttrBoolList TFE_OpSetAttrFloat TFE_OpSetAttrFloatList
TFE_OpSetAttrInt TFE_OpSetAttrIntList TFE_OpSetAttrShape TFE_OpSetAttrString TFE_OpSetAttrType
TFE_TensorHandleCopyToDevice TFE_TensorHandleDataType TFE_TensorHandleDim TFE_TensorHandleNumDims
TFE_TensorHandleResolve TF_AllocateTensor TF_DataTypeSize TF_DeleteBuffer TF_DeleteDeviceList
TF_DeleteGraph TF_DeleteSession TF_DeleteSessionOptions TF_DeleteStatus TF_DeleteTensor
TF_DeviceListCount TF_DeviceListName TF_DeviceListType TF_Dim TF_GetCode TF_GraphOperationByName
TF_LoadSessionFromSavedModel TF_Message TF_NewBuffer TF_NewBufferFromString TF_NewGraph
TF_NewSessionOptions TF_NewStatus TF_NewTensor TF_NumDims TF_SessionRun TF_TensorByteSize
TF_TensorData TF_TensorElementCount TF_TensorType TF_Version"
# Defined text symbols of both libraries, without the '@@tensorflow' version suffix.
EXPORTED="$(nm -D --defined-only "$DIR/libtensorflow_cc.so.2" "$DIR/libtensorflow_framework.so.2" \
  | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u)"
status=0
for s in $NEEDED; do
  grep -qx "$s" <<<"$EXPORTED" || { echo "missing: $s"; status=1; }
done
exit $status
