#include "broker/LocalStream.h"

#include "moc_LocalStream.cpp"
