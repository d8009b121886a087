/**
 * 'ChatRoom', 'chatRoom', 'chat_room' and 'chat room' all become 'chat-room'.
 * @param {string} name
 */
export function dasherize(name) {
  return name
    .trim()
    .replace(/([a-z\d])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[\s_]+/g, '-');
}

/**
 * 'chat-room' becomes 'ChatRoom'.
 * @param {string} dasherized
 */
export function classify(dasherized) {
  return dasherized
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}
