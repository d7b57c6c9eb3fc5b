/** Version of @ballast/sdk, sent in the PodLink hello. */
export const SDK_VERSION = "0.1.0";
